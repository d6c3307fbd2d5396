"""How a statement's numbers were derived: target segments and tier boundaries in money."""

from __future__ import annotations

from typing import Any

from domain.decisions import METRICS
from domain.engine.commission import band_boundaries
from domain.engine.team import scope_target, team_target
from domain.engine.view import LedgerView
from domain.money import decimal_text, money_text
from domain.plan import Plan
from domain.targets import EffectiveTarget


def derivation(view: LedgerView, plan: Plan, rep_id: str) -> dict[str, Any]:
    """The effective targets with their segments and decisions, the revenue tier boundaries in
    money, and the team the rep was counted in."""
    targets = {metric: target for metric in METRICS
               if (target := scope_target(view, f"rep:{rep_id}", metric, plan.target_proration))}
    revenue = targets.get("revenue")
    bands = band_boundaries(plan, revenue.value) if revenue and revenue.value > 0 else []
    team_id = view.teams.get(rep_id)
    team = team_target(view, team_id, "revenue", plan.target_proration) if team_id else None
    return {
        "period": {"name": view.period.name, "first_day": view.period.first_day.isoformat(),
                   "last_day": view.period.last_day.isoformat(), "days": view.period.days},
        "proration": plan.target_proration,
        "targets": {metric: _target(target) for metric, target in targets.items()},
        "tiers": [{"tier": number, "rate": decimal_text(rate), "from": money_text(lower),
                   "up_to": money_text(upper) if upper is not None else None}
                  for number, (lower, upper, rate) in enumerate(bands, start=1)],
        "team": {"team_id": team_id, "revenue_target": _target(team) if team else None},
    }


def _target(target: EffectiveTarget) -> dict[str, Any]:
    return {"value": money_text(target.value), "segments": [
        {"decision_id": s.decision_id, "value": money_text(s.value), "from": s.starts.isoformat(),
         "to": s.ends.isoformat(), "days": s.days, "reason": s.reason,
         "approved_by": s.approved_by} for s in target.segments]}
