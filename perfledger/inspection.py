"""Explain a statement and verify every issued one: what finance reaches for in a dispute."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select

from domain.engine import calculate
from domain.engine.explain import derivation
from domain.errors import DomainError
from domain.money import money_text
from domain.periods import Period
from perfledger.audit import is_closed, issued_row, plain_row
from perfledger.wiring import System
from projections.chain import check_chain
from projections.loader import load_decisions, load_view
from projections.runner import collector_paused
from projections.tables import among, disputes, facts, issued_statements


def explain(system: System, period: Period, rep_id: str, version: int | None = None,
            known_at: datetime | None = None) -> dict[str, Any]:
    """The statement (an issued version, else the latest issued of a closed period, else the
    live one) with how each number was derived, its sources, versions and disputes."""
    with collector_paused():  # a statement of 1,000 lines is many objects for nothing to free
        return _explained(system, period, rep_id, version, known_at)


def _explained(system: System, period: Period, rep_id: str, version: int | None,
               known_at: datetime | None) -> dict[str, Any]:
    history = _history(system, period, rep_id)
    moment = known_at.isoformat(timespec="microseconds") if known_at is not None else None
    if moment is not None:
        history = [issued for issued in history if issued["issued_at"] <= moment]
    if version is not None:
        chosen = next((v for v in history if v["version"] == version), None)
        if chosen is None:
            raise DomainError(f"--version: {rep_id} has no version {version} for {period.name}")
    elif history and is_closed(system, period, known_at):
        chosen = history[-1]
    else:
        chosen = None
    as_of = datetime.fromisoformat(chosen["known_at"]) if chosen else known_at
    plan = (system.ledger.plan_book().plan(f"{chosen['plan']['id']}@{chosen['plan']['version']}")
            if chosen else system.plan_for(period, as_of))
    if chosen is None and as_of is None:  # as served, recomputed only when stale
        chosen = system.live_statement(period, rep_id)
    with system.engine.connect() as conn:
        view = load_decisions(conn, period, as_of, reps=[rep_id])  # what derivation needs
        statement = chosen or calculate(load_view(conn, period, [rep_id], as_of, decisions=view),
                                        plan, rep_id).to_json()
        sources = _sources(conn, statement["lines"])
        opened = _disputes(conn, period, rep_id, moment)
    lines = [{"number": n, **line, "source_event": sources.get((line["source"], line["event_id"]))}
             for n, line in enumerate(statement["lines"], start=1)]
    return {"rep_id": rep_id, "period": period.name, "version": statement.get("version"),
            "plan": statement["plan"], "as_known_at": as_of.isoformat() if as_of else None,
            "total": statement["total"], "fingerprint": statement["fingerprint"],
            "warnings": statement["warnings"], "derivation": derivation(view, plan, rep_id),
            "lines": lines, "versions": [_version_summary(v) for v in history],
            "disputes": opened}


def _disputes(conn: Any, period: Period, rep_id: str, moment: str | None
              ) -> list[dict[str, Any]]:
    """The disputes of the rep's statement as known at `moment` (stored-time text): those
    opened by then, still open if they were resolved later."""
    query = select(disputes).where(disputes.c.rep_id == rep_id, disputes.c.period == period.name)
    if moment is None:
        return [plain_row(row) for row in conn.execute(query)]
    shown = []
    for row in conn.execute(query.where(disputes.c.opened_at <= moment)):
        dispute = plain_row(row)
        if dispute["resolved_at"] is not None and dispute["resolved_at"] > moment:
            dispute.update(outcome=None, amount=None, note=None, adjustment_period=None,
                           resolved_at=None)
        shown.append(dispute)
    return shown


def verify(system: System) -> dict[str, Any]:
    """Recompute every issued statement as known at its issue and compare total and fingerprint;
    check the hash chain over the stored events. `ok` is False on any difference."""
    system.runner.catch_up()
    with system.engine.connect() as conn:
        rows = list(conn.execute(select(issued_statements).order_by(
            issued_statements.c.period, issued_statements.c.rep_id, issued_statements.c.version)))
    book = system.ledger.plan_book()
    mismatches = []
    for row in rows:
        known_at = datetime.fromisoformat(row.known_at)
        again = system.statement(Period.parse(row.period), row.rep_id, book.plan(row.plan_ref),
                                 known_at)
        total, fingerprint = money_text(again.total), again.fingerprint
        if total != row.total or fingerprint != row.fingerprint:
            mismatches.append({"rep_id": row.rep_id, "period": row.period,
                               "version": row.version, "issued_total": row.total,
                               "recomputed_total": total, "issued_fingerprint": row.fingerprint,
                               "recomputed_fingerprint": fingerprint})
    breaks = check_chain(system.ledger, system.engine)
    return {"ok": not mismatches and not breaks, "statements_checked": len(rows),
            "mismatches": mismatches, "chain_breaks": [b.describe() for b in breaks]}


def _history(system: System, period: Period, rep_id: str) -> list[dict[str, Any]]:
    system.runner.catch_up()
    with system.engine.connect() as conn:
        rows = conn.execute(select(issued_statements).where(
            issued_statements.c.period == period.name, issued_statements.c.rep_id == rep_id
        ).order_by(issued_statements.c.version))
        return [issued_row(row) for row in rows]


def _version_summary(version: dict[str, Any]) -> dict[str, Any]:
    return {key: version[key] for key in ("version", "total", "fingerprint", "issued_at",
                                          "known_at", "causes", "delta", "adjustment_period")}


def _sources(conn: Any, lines: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Type, id, source, business time and recorded time of each line's source event (looked
    up by event id, then matched on source too)."""
    keys = {(line["source"], line["event_id"]) for line in lines if line.get("event_id")}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    query = select(facts.c.type, facts.c.event_id, facts.c.source, facts.c.time,
                   facts.c.recorded_at, facts.c.data).where(
        among(conn, facts.c.event_id, {event_id for _, event_id in keys}))
    for kind, event_id, source, time, recorded_at, data in conn.execute(query):
        if (source, event_id) in keys:
            found[(source, event_id)] = {
                "type": kind, "id": event_id, "source": source, "time": time,
                "recorded_at": recorded_at, "data": orjson.loads(data)}
    return found
