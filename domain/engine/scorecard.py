"""The multi-metric scorecard and its bonus (SPEC §7 step 9)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from domain.engine.credit import CreditBook
from domain.engine.statement import Line, Scorecard
from domain.money import to_cents, to_ratio
from domain.plan import Plan

COMPLAINT_WEIGHT = {"low": 1, "medium": 2, "high": 3}
DEFAULT_COMPLAINT_ALLOWANCE = Decimal(10)


def new_customers(book: CreditBook, rep_id: str) -> Decimal:
    """Counted deals of the period the rep owns that won a new customer."""
    return Decimal(sum(1 for sale in book.counted_deals(rep_id)
                       if getattr(sale.fact.payload, "new_customer", False)
                       and sale.fact.payload.owner == rep_id))


def coaching_minutes(book: CreditBook, rep_id: str) -> Decimal:
    """Minutes of coaching the rep attended as a coachee in the period."""
    return Decimal(sum(s.payload.minutes for s in book.coaching_of.get(rep_id, [])))


def complaint_weight(book: CreditBook, rep_id: str) -> Decimal:
    """Weighted complaints against the rep logged in the period (low 1, medium 2, high 3)."""
    return Decimal(sum(COMPLAINT_WEIGHT[c.payload.severity]
                       for c in book.complaints_against.get(rep_id, [])
                       if book.view.period.contains(c.day)))


def quality(weight: Decimal, allowance: Decimal | None) -> Decimal:
    """max(0, 1 - complaint weight / allowance); allowance 10 unless a target says otherwise."""
    limit = allowance if allowance is not None else DEFAULT_COMPLAINT_ALLOWANCE
    if limit <= 0:
        return Decimal(1) if weight == 0 else Decimal(0)
    return max(Decimal(0), 1 - weight / limit)


def achieved(revenue: Decimal, new_customers: Decimal, renewals: Decimal,
             coaching: Decimal) -> dict[str, Decimal]:
    """What a rep achieved, per metric that attainment measures."""
    return {"revenue": revenue, "new_customers": new_customers, "renewals": renewals,
            "coaching_minutes": coaching}


def attainment_of(achieved: dict[str, Decimal], targets: Mapping[str, Decimal]
                  ) -> dict[str, Decimal]:
    """Achieved / target for every metric with a positive target."""
    return {metric: achieved[metric] / target for metric in achieved
            if (target := targets.get(metric)) is not None and target > 0}


def measured_of(attainment: dict[str, Decimal], weight: Decimal, allowance: Decimal | None
                ) -> dict[str, Decimal]:
    """The scorecard's metrics: quality always, and the attainments that have a target."""
    measured = {"quality": quality(weight, allowance)}
    for metric, name in (("revenue", "revenue"), ("new_customers", "new_customers"),
                         ("coaching_minutes", "coaching")):
        if metric in attainment:
            measured[name] = attainment[metric]
    return measured


def score(plan: Plan, measured: dict[str, Decimal]) -> Scorecard:
    """Capped metrics, renormalised weights over the metrics present, and the weighted score."""
    card = plan.scorecard
    if card is None:
        return Scorecard({}, {}, None)
    metrics = {name: min(value, card.cap) for name, value in measured.items()}
    weights: dict[str, Decimal] = {name: weight for name, weight in card.weights.items()
                                   if name in metrics}
    total_weight = sum(weights.values(), Decimal(0))
    if total_weight == 0:
        return Scorecard(metrics, weights, None)
    weighted = sum((weights[name] * metrics[name] for name in weights), Decimal(0))
    return Scorecard(metrics, weights, to_ratio(weighted / total_weight))


def scorecard_bonus_line(plan: Plan, card: Scorecard) -> Line | None:
    """target_amount x score when the score reaches min_score."""
    bonus = plan.scorecard.bonus if plan.scorecard is not None else None
    amount = scorecard_bonus_amount(plan, card)
    if bonus is None or amount is None or card.score is None:
        return None
    return Line("scorecard_bonus", amount, bonus.target_amount, card.score)


def scorecard_bonus_amount(plan: Plan, card: Scorecard) -> Decimal | None:
    """The bonus the score earns under the plan, None below min_score or without a bonus."""
    bonus = plan.scorecard.bonus if plan.scorecard is not None else None
    if bonus is None or card.score is None or card.score < bonus.min_score:
        return None
    return to_cents(bonus.target_amount * card.score)
