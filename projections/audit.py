"""The audit read models: closed periods, every issued statement version, and disputes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table, select, update

from domain.audit import AccountingPeriod, Dispute, IssuedStatement
from projections.facts import recorded_text
from projections.runner import Logged
from projections.tables import closed_periods, disputes, issued_statements


class AuditProjection:
    """Keeps `closed_periods`, `issued_statements` and `disputes` in step with the log."""

    name = "audit"
    tables: tuple[Table, ...] = (closed_periods, issued_statements, disputes)

    def process(self, conn: Connection, events: Sequence[Logged]) -> None:
        """Apply period closes, issues, restatements and dispute events in log order."""
        for logged in events:
            event = logged.event
            if isinstance(event, AccountingPeriod.Closed):
                conn.execute(closed_periods.insert().values(
                    period=event.period, closed_at=recorded_text(event)))
            elif isinstance(event, IssuedStatement.Issued):
                conn.execute(issued_statements.insert().values(_version_row(
                    event, event.rep_id, event.period, None, None)))
            elif isinstance(event, IssuedStatement.Restated):
                rep_id, period = conn.execute(select(
                    issued_statements.c.rep_id, issued_statements.c.period).where(
                    issued_statements.c.history_id == str(event.originator_id))).first() or ("", "")
                conn.execute(issued_statements.insert().values(_version_row(
                    event, rep_id, period, event.delta, event.adjustment_period)))
            elif isinstance(event, Dispute.Opened):
                conn.execute(disputes.insert().values(
                    dispute_id=event.dispute_id, aggregate_id=str(event.originator_id),
                    rep_id=event.rep_id, period=event.period, line=event.line,
                    reason=event.reason, statement_version=event.statement_version,
                    opened_at=recorded_text(event)))
            elif isinstance(event, Dispute.Resolved):
                conn.execute(update(disputes).where(
                    disputes.c.aggregate_id == str(event.originator_id)).values(
                    outcome=event.outcome, amount=event.amount, note=event.note,
                    adjustment_period=event.adjustment_period,
                    resolved_at=recorded_text(event)))

    def settle(self, engine: Engine) -> None:
        """Nothing deferred."""


def _version_row(event: Any, rep_id: str, period: str, delta: str | None,
                 adjustment_period: str | None) -> dict[str, Any]:
    statement = event.statement
    plan = statement["plan"]
    return {"rep_id": rep_id, "period": period, "version": event.originator_version,
            "history_id": str(event.originator_id), "total": statement["total"],
            "fingerprint": statement["fingerprint"], "plan_ref": f"{plan['id']}@{plan['version']}",
            "known_at": event.known_at, "issued_at": recorded_text(event),
            "causes": orjson.dumps(event.causes).decode(), "delta": delta,
            "adjustment_period": adjustment_period,
            "statement": orjson.dumps(statement, option=orjson.OPT_SORT_KEYS).decode()}
