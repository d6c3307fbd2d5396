"""Restatement and replay arithmetic: what an issued statement records, what changed since, and
line-level differences between two statements."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.engine import Statement
from domain.money import money_text


def issue_record(statement: Statement) -> dict[str, Any]:
    """The statement as issued: its JSON plus the keys of its source events and the ids of the
    target decisions behind it, so later versions can name what changed."""
    decisions = sorted({d for t in statement.effective_targets.values() for d in t.decision_ids})
    return {**statement.to_json(), "sources": list(statement.sources), "decisions": decisions}


def causes_of(issued: dict[str, Any], restated: dict[str, Any]) -> list[str]:
    """The events and decisions the restated statement depends on that the issued one did not
    (and the other way round), and the plan when it changed."""
    def inputs(record: dict[str, Any]) -> set[str]:
        return set(record.get("sources", [])) | {f"target:{d}" for d in record.get("decisions", [])}

    causes = sorted(inputs(restated) ^ inputs(issued))
    if issued["plan"]["sha256"] != restated["plan"]["sha256"]:
        plan = restated["plan"]
        causes.insert(0, f"plan:{plan['id']}@{plan['version']}")
    return causes


def line_key(line: dict[str, Any]) -> tuple[str, str, str, str]:
    """What identifies a line across two computations of a statement."""
    return (line["kind"], line.get("event_id") or "", line.get("deal_id") or "",
            str(line.get("tier") or ""))


def line_changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Lines whose amount differs (or that appear or vanish) between two statements."""
    before = {line_key(line): Decimal(line["amount"]) for line in old.get("lines", [])}
    after = {line_key(line): Decimal(line["amount"]) for line in new.get("lines", [])}
    changes = []
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key, Decimal(0)), after.get(key, Decimal(0))
        if was != now or (key in before) != (key in after):
            changes.append({"kind": key[0], "event_id": key[1] or None, "deal_id": key[2] or None,
                            "tier": int(key[3]) if key[3] else None, "old": money_text(was),
                            "new": money_text(now), "delta": money_text(now - was)})
    return changes
