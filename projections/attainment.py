"""Live attainment and scorecard per rep, team and org, from the live statements."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from domain.engine import Statement
from domain.engine.team import scope_target, team_target
from domain.money import decimal_text, money_text, to_ratio
from domain.periods import Period
from domain.plan import Plan
from projections.loader import load_decisions
from projections.statements import summary_row
from projections.tables import live_statements


def attainment(conn: Connection, period: Period, plan: Plan, *, rep_id: str | None = None,
               team_id: str | None = None, known_at: datetime | None = None,
               statements: Sequence[Statement] | None = None) -> dict[str, Any]:
    """Reps (optionally one rep or one team) with their figures, then team and org totals:
    from the live statements, or from `statements` computed as known at `known_at`."""
    if statements is None:
        query = select(live_statements).where(live_statements.c.period == period.name)
        reps = [_rep(row) for row in conn.execute(query.order_by(live_statements.c.rep_id))]
    else:
        reps = [_rep(summary_row(s)) for s in sorted(statements, key=lambda s: s.rep_id)]
    decisions = load_decisions(conn, period, known_at)
    proration = plan.target_proration
    teams: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rep in reps:
        if rep["team_id"]:
            teams[rep["team_id"]].append(rep)
    team_rows = [_aggregate(f"team:{team}", members,
                            team_target(decisions, team, "revenue", proration))
                 for team, members in sorted(teams.items())]
    org_target = scope_target(decisions, "org", "revenue", proration)
    org = _aggregate("org", reps, org_target) if reps else None
    if rep_id is not None:
        reps = [rep for rep in reps if rep["rep_id"] == rep_id]
        team_rows, org = [], None
    elif team_id is not None:
        reps = [rep for rep in reps if rep["team_id"] == team_id]
        team_rows = [row for row in team_rows if row["scope"] == f"team:{team_id}"]
        org = None
    return {"period": period.name, "plan": {"id": plan.id, "version": plan.version,
                                            "sha256": plan.sha256},
            "reps": reps, "teams": team_rows, "org": org}


def _rep(row: Any) -> dict[str, Any]:
    row = row if isinstance(row, dict) else row._mapping
    return {"rep_id": row["rep_id"], "team_id": row["team_id"],
            "credited_revenue": row["credited_revenue"], "revenue_target": row["revenue_target"],
            "attainment": row["attainment"], "score": row["score"], "commission": row["total"]}


def _aggregate(scope: str, members: list[dict[str, Any]], own_target: Any) -> dict[str, Any]:
    """Credited revenue and commission summed; the scope's own target, else its members'."""
    credited = sum((Decimal(m["credited_revenue"]) for m in members), Decimal(0))
    if own_target is not None:
        target: Decimal | None = own_target.value
    else:
        known = [Decimal(m["revenue_target"]) for m in members if m["revenue_target"]]
        target = sum(known, Decimal(0)) if known else None
    commission = sum((Decimal(m["commission"]) for m in members), Decimal(0))
    return {"scope": scope, "reps": len(members), "credited_revenue": money_text(credited),
            "revenue_target": money_text(target) if target is not None else None,
            "attainment": decimal_text(to_ratio(credited / target)) if target else None,
            "commission": money_text(commission)}
