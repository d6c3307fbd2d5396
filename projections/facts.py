"""The facts read model: one period-indexed row per recorded fact or decision, plus the reps
each names, plus the rejected inputs. The engine's inputs are loaded from here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table

from domain.aggregates import Rejection
from domain.periods import periods_of
from projections.runner import Logged
from projections.tables import append_rows, fact_reps, facts, rejects


def recorded_text(event: Any) -> str:
    """The event's transaction time as ISO 8601 UTC with microseconds (sortable as text)."""
    return str(event.timestamp.isoformat(timespec="microseconds"))


def named_reps(kind: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """(rep, role) for every rep a fact or decision names."""
    if "credits" in data:
        return [(credit["rep_id"], credit["role"]) for credit in data["credits"]]
    if kind == "complaint.logged":
        return [(data["rep_id"], "accountable")]
    if kind == "coaching.session_held":
        return [(rep, "coachee") for rep in data["rep_ids"]]
    if kind in ("roster.assigned", "adjustment.posted"):
        return [(data["rep_id"], "roster" if kind == "roster.assigned" else "adjusted")]
    if kind == "target.set" and data["scope"].startswith("rep:"):
        return [(data["scope"].removeprefix("rep:"), "target")]
    return []


class FactsProjection:
    """Keeps `facts`, `fact_reps` and `rejects` in step with the log."""

    name = "facts"
    tables: tuple[Table, ...] = (facts, fact_reps, rejects)

    def process(self, conn: Connection, events: Sequence[Logged]) -> None:
        """Insert one row per fact and decision, and one per rejected input."""
        fact_rows, rep_rows, reject_rows = [], [], []
        for logged in events:
            event = logged.event
            if isinstance(event, Rejection.Recorded):
                reject_rows.append({"position": logged.position, "raw": event.raw,
                                    "reason": event.reason, "origin": event.origin,
                                    "recorded_at": recorded_text(event)})
            elif hasattr(event, "content_hash") and hasattr(event, "kind"):
                fact_rows.append(fact_row(logged.position, event))
                rep_rows += [{"position": logged.position, "rep_id": rep, "role": role}
                             for rep, role in named_reps(event.kind, event.data)]
        for table, rows in ((facts, fact_rows), (fact_reps, rep_rows), (rejects, reject_rows)):
            append_rows(conn, table, rows)

    def settle(self, engine: Engine) -> None:
        """Nothing deferred: rows are final when written."""


def fact_row(position: int, event: Any) -> dict[str, Any]:
    """The facts row of a recorded fact or decision event."""
    data = event.data
    day = date.fromisoformat(event.time[:10])
    quarter, month = periods_of(day)
    return {
        "position": position, "source": event.source, "event_id": event.event_id,
        "type": event.kind,
        "time": event.time, "day": day.isoformat(), "quarter": quarter.name, "month": month.name,
        "recorded_at": recorded_text(event), "deal_id": data.get("deal_id"),
        "scope": data.get("scope"), "target_period": data.get("period"),
        "content_hash": event.content_hash, "data": orjson.dumps(data).decode(),
    }
