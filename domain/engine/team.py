"""Teams: membership from the roster, team targets, and the team bonus (SPEC §5.4, §7 step 8)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from domain.engine.credit import CreditBook
from domain.engine.statement import Line
from domain.engine.view import LedgerView, RosterEntry
from domain.money import to_cents
from domain.targets import EffectiveTarget, effective_target, sum_of_targets


def teams_on(roster: Iterable[RosterEntry], view: LedgerView, day: date) -> dict[str, str]:
    """Each rep's team on `day`: the latest assignment effective by then (later recording wins)."""
    latest: dict[str, RosterEntry] = {}
    for entry in sorted(roster, key=lambda e: (e.effective_from, e.position)):
        if entry.effective_from <= day and view.known(entry.recorded_at):
            latest[entry.rep_id] = entry
    return {rep: entry.team_id for rep, entry in latest.items()}


def members_of(view: LedgerView, team_id: str) -> list[str]:
    """Members of the team as of the period's last day, sorted."""
    teams = teams_on(view.roster, view, view.period.last_day)
    return sorted(rep for rep, team in teams.items() if team == team_id)


def scope_target(view: LedgerView, scope: str, metric: str, proration: str) -> EffectiveTarget | None:
    """The effective target of a scope for a metric, from the decisions known at the view."""
    decisions = [d for d in view.targets if d.scope == scope and d.metric == metric
                 and d.period == view.period.name and view.known(d.recorded_at)]
    return effective_target(decisions, view.period, proration)


def team_target(view: LedgerView, team_id: str, metric: str, proration: str) -> EffectiveTarget | None:
    """The team's own target, or else the sum of its members' targets."""
    own = scope_target(view, f"team:{team_id}", metric, proration)
    if own is not None:
        return own
    members = members_of(view, team_id)
    return sum_of_targets(metric, (scope_target(view, f"rep:{m}", metric, proration)
                                   for m in members))


def team_bonus_line(book: CreditBook, rep_id: str, team_id: str | None) -> tuple[Line | None,
                                                                               list[str]]:
    """The rep's share of the team pool when the team reaches the threshold, and the team's
    members (whose sales the decision consulted). Share = rate x the rep's credited revenue."""
    bonus = book.plan.team_bonus
    if bonus is None or team_id is None:
        return None, []
    members = members_of(book.view, team_id)
    target = team_target(book.view, team_id, "revenue", book.plan.target_proration)
    if target is None or target.value <= 0:
        return None, members
    team_revenue = sum((book.credited_revenue(m) for m in members), Decimal(0))
    credited = book.credited_revenue(rep_id)
    if team_revenue / target.value < bonus.threshold or credited <= 0:
        return None, members
    return Line("team_bonus", to_cents(credited * bonus.rate), credited, bonus.rate), members
