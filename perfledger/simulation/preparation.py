"""Everything decided before the first event: checked arguments, roster, plan, revision, sizes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidInput
from domain.periods import Period
from perfledger.simulation.decisions import Decision, mid_period_revisions, plan_decisions
from perfledger.simulation.roster import Rep, build_roster, team_ids
from perfledger.simulation.schedule import daily_slots

_EVENTS_PER_REP_QUARTER = 100
_EVENTS_PER_REP_MONTH = 35


@dataclass
class Setup:
    """Everything decided before the first event is yielded."""

    period: Period
    seed: int
    rng: random.Random
    roster: list[Rep]
    decisions: list[Decision]
    revisions: list[dict[str, Any]]
    revision_day: int
    slots: list[int]


def prepare(period: str, reps: int, seed: int, events: int | None) -> Setup:
    """The setup of a simulation, or ValueError naming the first bad argument."""
    parsed = _parse_period(period)
    _check_counts(reps, seed, events)
    rng = random.Random(seed)
    roster = build_roster(reps)
    decisions, revenue_cents = plan_decisions(rng, parsed, roster, team_ids(roster))
    revision_day, revisions = mid_period_revisions(rng, parsed, roster, revenue_cents)
    facts = _fact_count(parsed, reps, events, len(decisions) + len(revisions))
    slots = daily_slots(parsed, facts)
    return Setup(parsed, seed, rng, roster, decisions, revisions, revision_day, slots)


def _parse_period(period: str) -> Period:
    """The period named `YYYY-Qn` or `YYYY-MM`, or ValueError naming `period`."""
    if not isinstance(period, str):
        raise ValueError(f"period: expected YYYY-Qn or YYYY-MM, got {period!r}")
    try:
        return Period.parse(period)
    except InvalidInput as error:
        raise ValueError(str(error)) from None


def _check_counts(reps: int, seed: int, events: int | None) -> None:
    """ValueError naming `reps`, `seed` or `events` unless each is a whole number in range."""
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise ValueError(f"reps: expected a whole number >= 1, got {reps!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed: expected a whole number, got {seed!r}")
    if events is not None and (isinstance(events, bool) or not isinstance(events, int)):
        raise ValueError(f"events: expected a whole number or None, got {events!r}")


def _fact_count(period: Period, reps: int, events: int | None, decisions: int) -> int:
    """How many facts follow the `decisions`: the rest of `events`, or a default per rep."""
    if events is None:
        per_rep = _EVENTS_PER_REP_QUARTER if period.is_quarter else _EVENTS_PER_REP_MONTH
        events = max(per_rep * reps, decisions)
    elif events < decisions:
        raise ValueError(
            f"events: {events} is too few; {reps} reps need at least {decisions} "
            "for the roster and target decisions"
        )
    return events - decisions
