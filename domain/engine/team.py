"""Teams: membership from the roster, team targets, and the team bonus (SPEC §5.4, §7 step 8)."""

from __future__ import annotations

from decimal import Decimal

from domain.engine.credit import CreditBook
from domain.engine.statement import Line
from domain.engine.view import LedgerView
from domain.money import to_cents
from domain.plan import Plan
from domain.targets import EffectiveTarget, effective_target, sum_of_targets


def scope_target(view: LedgerView, scope: str, metric: str, proration: str) -> EffectiveTarget | None:
    """The effective target of a scope for a metric, from the decisions known at the view."""
    return effective_target(view.decisions.get((scope, metric), ()), view.period, proration)


def team_target(view: LedgerView, team_id: str, metric: str, proration: str) -> EffectiveTarget | None:
    """The team's own target, or else the sum of its members' targets."""
    own = scope_target(view, f"team:{team_id}", metric, proration)
    if own is not None:
        return own
    return sum_of_targets(metric, (scope_target(view, f"rep:{m}", metric, proration)
                                   for m in view.members.get(team_id, [])))


def book_team_target(book: CreditBook, team_id: str) -> EffectiveTarget | None:
    """The team's revenue target under the book's plan, computed once per book."""
    return book.shared(("team target", team_id), lambda: team_target(
        book.view, team_id, "revenue", book.plan.target_proration))


def team_bonus_line(book: CreditBook, rep_id: str, team_id: str | None) -> tuple[Line | None,
                                                                               list[str]]:
    """The rep's share of the team pool when the team reaches the threshold, and the team's
    members (whose sales the decision consulted). Share = rate x the rep's credited revenue."""
    bonus = book.plan.team_bonus
    if bonus is None or team_id is None:
        return None, []
    members = book.view.members.get(team_id, [])
    target = book_team_target(book, team_id)
    if target is None or target.value <= 0:
        return None, members
    team_revenue = book.shared(("team revenue", team_id), lambda: sum(
        (book.credited_revenue(m) for m in members), Decimal(0)))
    credited = book.credited_revenue(rep_id)
    amount = team_bonus_amount(book.plan, team_revenue, target.value, credited)
    if amount is None:
        return None, members
    return Line("team_bonus", amount, credited, bonus.rate), members


def team_bonus_amount(plan: Plan, team_revenue: Decimal, team_target: Decimal | None,
                      credited: Decimal) -> Decimal | None:
    """rate x the rep's credited revenue when the team reaches the threshold, else None."""
    bonus = plan.team_bonus
    if bonus is None or team_target is None or team_target <= 0:
        return None
    if team_revenue / team_target < bonus.threshold or credited <= 0:
        return None
    return to_cents(credited * bonus.rate)
