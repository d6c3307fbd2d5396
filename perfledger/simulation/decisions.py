"""The decisions recorded by sales ops: roster assignments, plan targets and their revision."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from domain.periods import Period
from perfledger.simulation.roster import AFTERSALES, CONSUMER, ENTERPRISE, PRESALES, Rep

# A decision to record: its CloudEvents type and data.
Decision = tuple[str, dict[str, Any]]

_APPROVER = "vp-sales"
_PLAN_REASON = "annual plan"
_REVISION_REASON = "competitor price cut"
_REVISION_FACTOR_PERCENT = 75
_REVISED_SHARE = 0.10

# Revenue targets per quarter in thousands of USD: (low, high, step).
_REVENUE_RANGES = {
    ENTERPRISE: (150, 400, 5),
    CONSUMER: (20, 60, 1),
    PRESALES: (60, 150, 5),
    AFTERSALES: (20, 60, 5),
}
# New-customer targets per quarter: (low, high).
_NEW_CUSTOMER_RANGES = {
    ENTERPRISE: (1, 4),
    CONSUMER: (10, 40),
    PRESALES: (1, 1),
    AFTERSALES: (1, 1),
}


def money(cents: int) -> str:
    """An amount of cents as a plain decimal string with two places."""
    return f"{cents // 100}.{cents % 100:02d}"


def target(
    scope: str, metric: str, value: str, *, period: str, effective_from: str, reason: str
) -> dict[str, Any]:
    """The data of a `target.set` decision approved by the VP of sales."""
    return {
        "scope": scope,
        "metric": metric,
        "period": period,
        "value": value,
        "effective_from": effective_from,
        "reason": reason,
        "approved_by": _APPROVER,
    }


def plan_decisions(
    rng: random.Random, period: Period, roster: list[Rep], team_ids: list[str]
) -> tuple[list[Decision], list[int]]:
    """The roster and annual-plan targets, and each rep's revenue target in cents."""
    start = period.first_day.isoformat()
    decisions: list[Decision] = [
        (
            "roster.assigned",
            {"rep_id": rep.rep_id, "team_id": team_ids[rep.team], "effective_from": start},
        )
        for rep in roster
    ]
    revenue_cents: list[int] = []

    def plan(scope: str, metric: str, value: str) -> Decision:
        data = target(
            scope, metric, value, period=period.name, effective_from=start, reason=_PLAN_REASON
        )
        return ("target.set", data)

    for rep in roster:
        revenue_cents.append(_revenue_target_cents(rng, period, rep))
        scope = f"rep:{rep.rep_id}"
        metrics = _other_rep_targets(rng, period, rep)
        values = [("revenue", money(revenue_cents[-1])), *metrics]
        decisions.extend(plan(scope, metric, value) for metric, value in values)

    decisions.append(plan("org", "revenue", money(sum(revenue_cents))))
    for team_id, cents in _team_revenue_targets(roster, team_ids, revenue_cents):
        decisions.append(plan(f"team:{team_id}", "revenue", money(cents)))
    return decisions, revenue_cents


def _revenue_target_cents(rng: random.Random, period: Period, rep: Rep) -> int:
    low, high, step = _REVENUE_RANGES[rep.role]
    thousands = rng.randrange(low, high + 1, step)
    if not period.is_quarter:
        thousands = max(1, round(thousands / 3))
    return thousands * 100_000


def _other_rep_targets(rng: random.Random, period: Period, rep: Rep) -> list[tuple[str, str]]:
    """New customers, coaching minutes and, for about a third of the reps, a complaint allowance."""
    low, high = _NEW_CUSTOMER_RANGES[rep.role]
    new_customers = rng.randint(low, high)
    if not period.is_quarter:
        new_customers = max(1, round(new_customers / 3))
    coaching = rng.randrange(120, 601, 30) if period.is_quarter else rng.randrange(40, 201, 10)
    values = [("new_customers", str(new_customers)), ("coaching_minutes", str(coaching))]
    if rng.random() < 0.3:
        allowance = rng.randint(4, 12) if period.is_quarter else rng.randint(2, 6)
        values.append(("complaint_allowance", str(allowance)))
    return values


def _team_revenue_targets(
    roster: list[Rep], team_ids: list[str], revenue_cents: list[int]
) -> Iterator[tuple[str, int]]:
    """For the first two teams: a tenth over the members' targets, in whole thousands."""
    for team in range(min(2, len(team_ids))):
        members = sum(
            cents for rep, cents in zip(roster, revenue_cents, strict=True) if rep.team == team
        )
        stretch_thousands = max(1, round(members * 11 / 10 / 100_000))
        yield team_ids[team], stretch_thousands * 100_000


def mid_period_revisions(
    rng: random.Random, period: Period, roster: list[Rep], revenue_cents: list[int]
) -> tuple[int, list[dict[str, Any]]]:
    """The middle day of the period, and the lowered revenue targets of a tenth of the reps."""
    revision_day = period.days // 2
    revised_count = max(1, round(len(roster) * _REVISED_SHARE))
    revised = sorted(rng.sample(range(len(roster)), revised_count))
    revision_date = (period.first_day + timedelta(days=revision_day)).isoformat()
    revisions = [
        target(
            f"rep:{roster[index].rep_id}",
            "revenue",
            money(revenue_cents[index] * _REVISION_FACTOR_PERCENT // 100),
            period=period.name,
            effective_from=revision_date,
            reason=_REVISION_REASON,
        )
        for index in revised
    ]
    return revision_day, revisions
