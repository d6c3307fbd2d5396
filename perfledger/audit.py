"""Audit operations (SPEC §8): close a period, restate it, replay it under another plan, and read
issued versions. The rules live in domain/; this module fetches, calls and records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import func, select

from domain.engine import Statement
from domain.errors import DomainError
from domain.ledger import Restatement
from domain.money import money_text
from domain.periods import Period
from domain.plan import parse_plan
from domain.restatement import causes_of, issue_record, line_changes
from perfledger.wiring import System, utc_now
from projections.tables import (
    closed_periods,
    disputes,
    facts,
    issued_statements,
    live_statements,
)


def close_period(system: System, period: Period) -> dict[str, Any]:
    """Issue version 1 of every statement of the period, as known now, and lock the period."""
    known_at = utc_now()
    plan = system.plan_for(period, known_at)
    statements = system.period_statements(period, plan, known_at)
    system.ledger.close_period(period.name, [issue_record(s) for s in statements], known_at,
                               plan.ref)
    system.runner.catch_up()
    return {"period": period.name, "statements": len(statements),
            "total": money_text(sum((s.total for s in statements), Decimal(0)))}


def latest_issued(system: System, period: Period, known_at: datetime | None = None
                  ) -> dict[str, dict[str, Any]]:
    """Each rep's latest issued version of the period (as known at `known_at`), by rep."""
    system.runner.catch_up()
    query = select(issued_statements).where(issued_statements.c.period == period.name)
    if known_at is not None:
        query = query.where(issued_statements.c.issued_at <= _text(known_at))
    latest: dict[str, dict[str, Any]] = {}
    with system.engine.connect() as conn:
        for row in conn.execute(query.order_by(issued_statements.c.version)):
            latest[row.rep_id] = issued_row(row)
    return latest


def issued_row(row: Any) -> dict[str, Any]:
    """An issued version as shown: the statement plus its version, times and causes."""
    statement = orjson.loads(row.statement)
    return {**statement, "version": row.version, "issued_at": row.issued_at,
            "known_at": row.known_at, "causes": orjson.loads(row.causes), "delta": row.delta,
            "adjustment_period": row.adjustment_period}


def is_closed(system: System, period: Period, known_at: datetime | None = None) -> bool:
    """True if the period was closed (by `known_at` when given)."""
    system.runner.catch_up()
    query = select(closed_periods.c.closed_at).where(closed_periods.c.period == period.name)
    with system.engine.connect() as conn:
        closed_at = conn.execute(query).scalar()
    return closed_at is not None and (known_at is None or closed_at <= _text(known_at))


def restate(system: System, period: Period, *, apply: bool) -> dict[str, Any]:
    """Recompute a closed period from everything now known; per rep the issued and restated
    totals, the delta and its causes; with `apply`, issue the new versions and post deltas."""
    if not is_closed(system, period):
        raise DomainError(f"PERIOD: {period.name} is open; close it first (perfledger period close)")
    known_at = utc_now()
    issued = latest_issued(system, period)
    changed, reps = [], []
    for statement in system.period_statements(period, known_at=known_at):
        record = issue_record(statement)
        before = issued.get(statement.rep_id)
        if before is not None and before["fingerprint"] == record["fingerprint"]:
            continue
        causes = causes_of(before, record) if before else ["first issue"]
        old_total = Decimal(before["total"]) if before else Decimal(0)
        reps.append({"rep_id": statement.rep_id, "issued_version": before["version"] if before else None,
                     "issued_total": money_text(old_total), "restated_total": record["total"],
                     "delta": money_text(Decimal(record["total"]) - old_total), "causes": causes})
        changed.append(Restatement(record, known_at, tuple(causes)))
    target = None
    if apply and changed:
        target = system.ledger.restate(period.name, changed).name
        system.runner.catch_up()
    return {"period": period.name, "applied": bool(apply and changed), "adjustment_period": target,
            "reps": reps}


def replay(system: System, period: Period, document: str, *, lines: bool, apply: bool
           ) -> dict[str, Any]:
    """Every rep of the period under another plan and the targets as now known, against the
    current statement (the latest issued version of a closed period); `apply` adopts the plan
    for the period and restates it."""
    plan = parse_plan(document)
    closed = is_closed(system, period)
    current = _current(system, period, closed, with_lines=lines)
    rows, old_sum, new_sum = [], Decimal(0), Decimal(0)
    for new in system.each_period_statement(period, plan, None,
                                            Statement.to_json if lines else _rep_total,
                                            provenance=False):
        old = current.get(new["rep_id"], {"total": "0.00", "lines": []})
        delta = Decimal(new["total"]) - Decimal(old["total"])
        row: dict[str, Any] = {"rep_id": new["rep_id"], "old_total": old["total"],
                               "new_total": new["total"], "delta": money_text(delta)}
        if lines:
            row["lines"] = line_changes(old, new)
        rows.append(row)
        old_sum += Decimal(old["total"])
        new_sum += Decimal(new["total"])
    rows.sort(key=lambda row: str(row["rep_id"]))
    result: dict[str, Any] = {
        "period": period.name, "closed": closed,
        "plan": {"id": plan.id, "version": plan.version, "sha256": plan.sha256},
        "reps": rows, "totals": {"old_total": money_text(old_sum), "new_total": money_text(new_sum),
                                 "delta": money_text(new_sum - old_sum)},
        "applied": apply}
    if apply:
        system.ledger.publish_plan(document)
        system.ledger.adopt_plan(period.name, plan.ref, restating=True)
        system.runner.catch_up()
        if closed:
            result["restatement"] = restate(system, period, apply=True)
    return result


def _rep_total(statement: Statement) -> dict[str, Any]:
    """What a replay without lines needs of a statement."""
    return {"rep_id": statement.rep_id, "total": money_text(statement.total)}


def _current(system: System, period: Period, closed: bool, *, with_lines: bool
             ) -> dict[str, dict[str, Any]]:
    """Each rep's current statement: the latest issued version of a closed period, else the
    live one. Without lines only the totals are read (a whole period of lines is most of what a
    replay would otherwise hold in memory)."""
    if closed and with_lines:
        return latest_issued(system, period)
    system.runner.catch_up()
    table = issued_statements if closed else live_statements
    columns = [table.c.rep_id, table.c.total] + ([table.c.statement] if with_lines else [])
    query = select(*columns).where(table.c.period == period.name)
    if closed:
        query = query.order_by(issued_statements.c.version)
    with system.engine.connect() as conn:
        return {row.rep_id: orjson.loads(row.statement) if with_lines else {"total": row.total}
                for row in conn.execute(query)}


def _text(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def list_periods(system: System, known_at: datetime | None = None) -> list[dict[str, Any]]:
    """Every period with facts, targets or issued statements, open or closed."""
    system.runner.catch_up()
    with system.engine.connect() as conn:
        named = {row[0] for row in conn.execute(select(facts.c.quarter).distinct())}
        named |= {row[0] for row in conn.execute(select(facts.c.month).distinct())}
        named |= {row[0] for row in conn.execute(
            select(facts.c.target_period).where(facts.c.target_period.is_not(None)).distinct())}
        closed = {row.period: row.closed_at for row in conn.execute(select(closed_periods))
                  if known_at is None or row.closed_at <= _text(known_at)}
        issued = dict(conn.execute(select(issued_statements.c.period, func.count()).where(
            issued_statements.c.version == 1).group_by(issued_statements.c.period)).all())
    return [{"period": name, "status": "closed" if name in closed else "open",
             "closed_at": closed.get(name), "statements": issued.get(name, 0) if name in closed else 0}
            for name in sorted(named | set(closed), key=Period.parse)]


def list_disputes(system: System, *, open_only: bool) -> list[dict[str, Any]]:
    """Disputes, oldest first, optionally only those not yet resolved."""
    system.runner.catch_up()
    query = select(disputes).order_by(disputes.c.opened_at)
    if open_only:
        query = query.where(disputes.c.outcome.is_(None))
    with system.engine.connect() as conn:
        return [plain_row(row) for row in conn.execute(query)]


def plain_row(row: Any) -> dict[str, Any]:
    """A result row as a dict keyed by plain `str` column names (SQLAlchemy hands out
    `quoted_name` keys, which JSON encoding refuses)."""
    return {str(key): value for key, value in row._mapping.items()}


def issued_statement(system: System, period: Period, rep_id: str, version: int | None,
                     known_at: datetime | None) -> dict[str, Any] | None:
    """The issued version asked for; without a version, the latest issued version of a closed
    period, flagged `pending_restatement` when the live recomputation differs; else None."""
    if version is None and not is_closed(system, period, known_at):
        return None
    with system.engine.connect() as conn:
        query = select(issued_statements).where(issued_statements.c.period == period.name,
                                                issued_statements.c.rep_id == rep_id)
        if version is not None:
            query = query.where(issued_statements.c.version == version)
        elif known_at is not None:
            query = query.where(issued_statements.c.issued_at <= _text(known_at))
        row = conn.execute(query.order_by(issued_statements.c.version.desc())).first()
    if row is None:
        if version is not None:
            raise DomainError(f"--version: {rep_id} has no version {version} for {period.name}")
        return None
    shown = issued_row(row)
    if known_at is None:
        live = system.statement(period, rep_id)
        shown["pending_restatement"] = live.fingerprint != shown["fingerprint"]
        shown["live_total"] = money_text(live.total)
    return shown
