"""Score updates: when a rep-period's figures change (stepped from its running totals, or
recomputed with its statement), one outbox row per (rep, period) with a per-key sequence number,
written in the same transaction as the change."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, select

from domain.engine.running import Standing
from domain.money import decimal_text, money_text, to_ratio
from projections.tables import append_rows, merge_rows, pairs_among, score_heads, score_updates

SCHEMA = "perfledger.score-update/v1"
MAX_CAUSES = 100


def figures(standing: Standing) -> dict[str, Any]:
    """What subscribers track: credited revenue, targets, attainment, score, commission."""
    return {
        "credited_revenue": money_text(standing.credited_revenue),
        "effective_targets": {m: money_text(v) for m, v in sorted(standing.effective_targets.items())},
        "attainment": {m: decimal_text(to_ratio(v)) for m, v in sorted(standing.attainment.items())},
        "scorecard_score": decimal_text(standing.score) if standing.score is not None else None,
        "commission_to_date": money_text(standing.commission_to_date),
    }


def record_score_updates(conn: Connection, standings: dict[tuple[str, str], Standing],
                         causes: dict[tuple[str, str], list[str]], computed_at: datetime) -> int:
    """Append an update for every (rep, period) whose figures changed; return how many."""
    keys = sorted(standings)
    heads = {(row.rep_id, row.period): row
             for condition in pairs_among(conn, ((period, rep) for rep, period in keys),
                                          score_heads.c.period, score_heads.c.rep_id)
             for row in conn.execute(select(score_heads).where(condition))}
    rows: list[dict[str, Any]] = []
    head_rows: list[dict[str, Any]] = []
    for key in keys:
        shown = figures(standings[key])
        digest = hashlib.sha256(orjson.dumps(shown, option=orjson.OPT_SORT_KEYS)).hexdigest()
        head = heads.get(key)
        if head is not None and head.digest == digest:
            continue
        seq = head.seq + 1 if head is not None else 1
        payload = {"schema": SCHEMA, "rep_id": key[0], "period": key[1], "seq": seq, **shown,
                   "caused_by": list(dict.fromkeys(causes.get(key, [])))[-MAX_CAUSES:],
                   "computed_at": computed_at.isoformat().replace("+00:00", "Z")}
        rows.append({"rep_id": key[0], "period": key[1], "seq": seq,
                     "payload": orjson.dumps(payload).decode()})
        head_rows.append({"rep_id": key[0], "period": key[1], "seq": seq, "digest": digest})
    merge_rows(conn, score_heads, head_rows, replacing=True)
    append_rows(conn, score_updates, rows)
    return len(rows)
