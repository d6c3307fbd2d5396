"""Score updates: when a live statement's figures change, one outbox row per (rep, period) with a
per-key sequence number, written in the same transaction as the statement."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, select, tuple_, update

from domain.engine import Statement
from domain.money import decimal_text, money_text, to_ratio
from projections.tables import score_heads, score_updates

SCHEMA = "perfledger.score-update/v1"
MAX_CAUSES = 100


def figures(statement: Statement) -> dict[str, Any]:
    """What subscribers track: credited revenue, targets, attainment, score, commission."""
    return {
        "credited_revenue": money_text(statement.credited_revenue),
        "effective_targets": {m: money_text(t.value)
                              for m, t in sorted(statement.effective_targets.items())},
        "attainment": {m: decimal_text(to_ratio(v)) for m, v in sorted(statement.attainment.items())},
        "scorecard_score": decimal_text(statement.scorecard.score)
        if statement.scorecard.score is not None else None,
        "commission_to_date": money_text(statement.total),
    }


def record_score_updates(conn: Connection, statements: Sequence[Statement],
                         causes: dict[tuple[str, str], list[str]], computed_at: datetime) -> int:
    """Append an update for every statement whose figures changed; return how many."""
    keys = [(s.rep_id, s.period) for s in statements]
    heads = {(row.rep_id, row.period): row for row in conn.execute(
        select(score_heads).where(tuple_(score_heads.c.rep_id, score_heads.c.period).in_(keys)))
    } if keys else {}
    rows, written = [], 0
    for statement in statements:
        key = (statement.rep_id, statement.period)
        shown = figures(statement)
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
        if head is None:
            conn.execute(score_heads.insert().values(rep_id=key[0], period=key[1], seq=seq,
                                                     digest=digest))
        else:
            conn.execute(update(score_heads).where(
                score_heads.c.rep_id == key[0], score_heads.c.period == key[1]
            ).values(seq=seq, digest=digest))
        written += 1
    if rows:
        conn.execute(score_updates.insert(), rows)
    return written
