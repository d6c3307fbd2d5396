"""The calculation engine (SPEC §7): one pure function from a ledger view and a plan to a statement."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from operator import itemgetter

from domain.decisions import METRICS
from domain.engine.commission import commission_lines
from domain.engine.credit import CreditBook
from domain.engine.extras import (
    adjustment_lines,
    clawback_lines,
    delivery_lines,
    renewal_lines,
    unit_lines,
)
from domain.engine.fingerprint import fingerprint
from domain.engine.scorecard import (
    achieved,
    attainment_of,
    coaching_minutes,
    complaint_weight,
    measured_of,
    new_customers,
    score,
    scorecard_bonus_line,
)
from domain.engine.statement import Line, Statement
from domain.engine.team import book_team_target, scope_target, team_bonus_line
from domain.engine.view import LedgerView
from domain.plan import Plan
from domain.targets import EffectiveTarget

NO_REVENUE_TARGET = "no revenue target"


def calculate(view: LedgerView, plan: Plan, rep_id: str) -> Statement:
    """Return the rep's statement for the view's period under the plan."""
    return calculate_many(view, plan, [rep_id])[0]


def calculate_many(view: LedgerView, plan: Plan, rep_ids: Iterable[str], *,
                   provenance: bool = True) -> list[Statement]:
    """Return the statements of several reps of one view, sharing the work of indexing it;
    without `provenance`, for a preview that shows figures and lines only (a replay), they
    carry no sources and an empty fingerprint."""
    book = CreditBook(view, plan)
    return [book_statement(book, rep_id, provenance=provenance) for rep_id in rep_ids]


def book_statement(book: CreditBook, rep_id: str, *, provenance: bool = True) -> Statement:
    """The rep's statement from a credit book of the view and plan (see `calculate_many` for
    `provenance`)."""
    view, plan = book.view, book.plan
    targets = rep_targets(view, plan, rep_id)
    team_id = view.teams.get(rep_id)
    credited = book.credited_revenue(rep_id)
    revenue_target = _positive(targets.get("revenue"))
    commission = commission_lines(book.attainment_sales(rep_id), plan, revenue_target)
    lines = [*commission, *renewal_lines(book, rep_id), *delivery_lines(book, rep_id),
             *unit_lines(book, rep_id), *clawback_lines(book, rep_id, commission)]
    lines.sort(key=Line.sort_key)
    team_line, members = team_bonus_line(book, rep_id, team_id)
    attainment, measured = _attainment(book, rep_id, targets, credited)
    card = score(plan, measured)
    closing = [line for line in (team_line, scorecard_bonus_line(plan, card)) if line]
    lines += closing
    cap = _cap_line(plan, lines)
    if cap is not None:
        lines.append(cap)
    lines += adjustment_lines(book, rep_id)
    warnings = () if revenue_target else (NO_REVENUE_TARGET,)
    sources = _sources(book, rep_id, members) if provenance else []
    return Statement(
        rep_id=rep_id, period=view.period.name,
        plan={"id": plan.id, "version": plan.version, "sha256": plan.sha256},
        effective_targets=targets, attainment=attainment, credited_revenue=credited,
        lines=tuple(lines), scorecard=card, warnings=warnings, team_id=team_id,
        fingerprint=fingerprint(rep_id, view.period.name, plan.sha256,
                                {**targets, **_team_targets(book, team_id)}, sources)
        if provenance else "",
        sources=tuple(map(itemgetter(0), sources)),
    )


def rep_targets(view: LedgerView, plan: Plan, rep_id: str) -> dict[str, EffectiveTarget]:
    """The rep's effective target per metric, from the decisions known at the view."""
    return {metric: target for metric in METRICS
            if (target := scope_target(view, f"rep:{rep_id}", metric, plan.target_proration))}


def _team_targets(book: CreditBook, team_id: str | None) -> dict[str, EffectiveTarget]:
    """The team's revenue target when a team bonus depends on it, keyed `team:ID:revenue`."""
    if book.plan.team_bonus is None or team_id is None:
        return {}
    target = book_team_target(book, team_id)
    return {f"team:{team_id}:revenue": target} if target is not None else {}


def _positive(target: EffectiveTarget | None) -> Decimal | None:
    return target.value if target is not None and target.value > 0 else None


def _attainment(book: CreditBook, rep_id: str, targets: dict[str, EffectiveTarget],
                credited: Decimal) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Attainment per metric with a target, and the scorecard's measured metrics."""
    attainment = attainment_of(achieved_of(book, rep_id, credited), target_values(targets))
    allowance = targets.get("complaint_allowance")
    measured = measured_of(attainment, complaint_weight(book, rep_id),
                           allowance.value if allowance is not None else None)
    return attainment, measured


def achieved_of(book: CreditBook, rep_id: str, credited: Decimal) -> dict[str, Decimal]:
    """What the rep achieved per metric that attainment measures."""
    return achieved(credited, new_customers(book, rep_id),
                    sum((s.credited for s in book.credited_renewals(rep_id)), Decimal(0)),
                    coaching_minutes(book, rep_id))


def target_values(targets: dict[str, EffectiveTarget]) -> dict[str, Decimal]:
    """Each metric's effective target value."""
    return {metric: target.value for metric, target in targets.items()}


def _cap_line(plan: Plan, lines: list[Line]) -> Line | None:
    """One negative line of the excess when the total exceeds the plan's cap."""
    total = sum((line.amount for line in lines), Decimal(0))
    excess = cap_amount(plan, total)
    return Line("cap", excess, total, Decimal(1)) if excess is not None else None


def cap_amount(plan: Plan, total: Decimal) -> Decimal | None:
    """The (negative) amount that brings a total above the plan's cap down to it, else None."""
    if plan.cap is None or total <= plan.cap.max_total:
        return None
    return plan.cap.max_total - total


def _sources(book: CreditBook, rep_id: str, members: list[str]) -> list[tuple[str, str]]:
    """Keys and content hashes of every source event the statement consulted, sorted, each
    once. The team's (its members' sales) are sorted once per team; the rep's own are sorted
    and merged in."""
    view = book.view
    used = {(d.key, d.content_hash) for d in book.deals_of(rep_id)}
    deal_ids = {d.payload.deal_id for d in book.deals_of(rep_id)}
    team: tuple[list[tuple[str, str]], frozenset[tuple[str, str]]] = ([], frozenset())
    if members:
        team = book.shared(("team sources", view.teams.get(rep_id, "")), lambda: _sorted_set({
            (s.fact.key, s.fact.content_hash) for member in members
            for s in book.attainment_sales(member)}))
    used |= {(s.fact.key, s.fact.content_hash) for s in book.credited_renewals(rep_id)}
    for deal_id in deal_ids:
        cancellation = book.cancellation_record(deal_id)
        if cancellation is not None:
            used.add((cancellation.key, cancellation.content_hash))
    for delivery, deal in book.deliveries_of(rep_id):
        used |= {(delivery.key, delivery.content_hash), (deal.key, deal.content_hash)}
    used |= {(c.key, c.content_hash) for c in book.complaints_against.get(rep_id, [])
             if view.period.contains(c.day) or c.payload.deal_id in deal_ids}
    used |= {(s.key, s.content_hash) for s in book.coaching_of.get(rep_id, [])}
    used |= {(a.key, a.content_hash) for a in book.adjustments_of(rep_id)}
    # Two sorted runs: one merge (sorting the concatenation only merges them).
    return sorted(team[0] + sorted(used - team[1]))


def _sorted_set(pairs: set[tuple[str, str]]) -> tuple[list[tuple[str, str]],
                                                     frozenset[tuple[str, str]]]:
    return sorted(pairs), frozenset(pairs)
