"""What the engine sees of the ledger: recorded facts and decisions, as plain frozen records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from operator import attrgetter
from typing import Any, Generic, TypeVar

from domain.adjustments import AdjustmentPosted
from domain.facts import (
    CoachingSessionHeld,
    ComplaintLogged,
    DealCancelled,
    DealClosed,
    DealDelivered,
    Payload,
    RenewalBooked,
)
from domain.periods import Period
from domain.targets import TargetDecision

P = TypeVar("P", bound=Payload)
# The rules' ordering of facts: business time, then event id (`Recorded.order`); as sort keys,
# C attribute getters, of a fact and of a sale's fact.
ORDER_FIELDS = ("time", "event_id")
IN_ORDER = attrgetter(*ORDER_FIELDS)
SALE_ORDER = attrgetter(*(f"fact.{name}" for name in ORDER_FIELDS))


@dataclass(frozen=True)
class Recorded(Generic[P]):
    """A fact as the ledger recorded it: identity, business and transaction time, content hash."""

    source: str
    event_id: str
    time: datetime
    recorded_at: datetime
    content_hash: str
    payload: P

    @property
    def key(self) -> str:
        """The idempotency key `source/id`."""
        return f"{self.source}/{self.event_id}"

    @property
    def day(self) -> date:
        """The UTC date of the business time."""
        return self.time.date()

    @property
    def order(self) -> tuple[datetime, str]:
        """The rules' ordering of facts: business time, then event id."""
        order: tuple[datetime, str] = IN_ORDER(self)
        return order


@dataclass(frozen=True)
class RosterEntry:
    """A `roster.assigned` decision with its recording position."""

    rep_id: str
    team_id: str
    effective_from: date
    position: int
    recorded_at: datetime


@dataclass(frozen=True)
class LedgerView:
    """Facts and decisions bearing on a period. The loader may include more than needed;
    the engine itself filters by period, by rep and by what was known at `known_at`."""

    period: Period
    deals: tuple[Recorded[DealClosed], ...] = ()
    deliveries: tuple[Recorded[DealDelivered], ...] = ()
    cancellations: tuple[Recorded[DealCancelled], ...] = ()
    renewals: tuple[Recorded[RenewalBooked], ...] = ()
    complaints: tuple[Recorded[ComplaintLogged], ...] = ()
    coaching: tuple[Recorded[CoachingSessionHeld], ...] = ()
    targets: tuple[TargetDecision, ...] = ()
    roster: tuple[RosterEntry, ...] = ()
    adjustments: tuple[Recorded[AdjustmentPosted], ...] = ()
    known_at: datetime | None = None

    def known(self, recorded_at: datetime | None) -> bool:
        """True if something recorded at `recorded_at` was known at the view's `known_at`."""
        return self.known_at is None or recorded_at is None or recorded_at <= self.known_at

    @cached_property
    def teams(self) -> dict[str, str]:
        """Each rep's team on the period's last day: the latest assignment effective by then
        (at an equal date the later-recorded wins)."""
        latest: dict[str, RosterEntry] = {}
        for entry in sorted(self.roster, key=lambda e: (e.effective_from, e.position)):
            if entry.effective_from <= self.period.last_day and self.known(entry.recorded_at):
                latest[entry.rep_id] = entry
        return {rep: entry.team_id for rep, entry in latest.items()}

    @cached_property
    def members(self) -> dict[str, list[str]]:
        """Each team's members on the period's last day, sorted."""
        found: dict[str, list[str]] = {}
        for rep, team in sorted(self.teams.items()):
            found.setdefault(team, []).append(rep)
        return found

    @cached_property
    def decisions(self) -> dict[tuple[str, str], list[TargetDecision]]:
        """The period's known target decisions by (scope, metric)."""
        found: dict[tuple[str, str], list[TargetDecision]] = {}
        for decision in self.targets:
            if decision.period == self.period.name and self.known(decision.recorded_at):
                found.setdefault((decision.scope, decision.metric), []).append(decision)
        return found

    def with_facts(self, **facts: Any) -> LedgerView:
        """A view of the same period, roster, targets and `known_at` holding `facts` (deals=…,
        renewals=…): what derives from the decisions alone (teams, members, the target decisions
        by scope) is handed over as this view derived it, not derived again for every group of
        reps a pass or a recomputation states with the same decisions."""
        if facts.keys() & DECISION_FIELDS:
            raise ValueError(f"with_facts: {sorted(facts.keys() & DECISION_FIELDS)} are decisions")
        view = replace(self, **facts)
        for name in DERIVED_FROM_DECISIONS:  # cached properties: derived here once, shared
            view.__dict__[name] = getattr(self, name)
        return view


DECISION_FIELDS = frozenset({"period", "targets", "roster", "known_at"})
DERIVED_FROM_DECISIONS = ("teams", "members", "decisions")


def known_facts(view: LedgerView, facts: Iterable[Recorded[P]]) -> list[Recorded[P]]:
    """The facts recorded up to the view's `known_at`, in the rules' order."""
    if view.known_at is None:
        return sorted(facts, key=IN_ORDER)
    return sorted((f for f in facts if view.known(f.recorded_at)), key=IN_ORDER)


def reps_in(view: LedgerView) -> set[str]:
    """Every rep the view's period facts, targets and adjustments name (roster alone does not)."""
    period = view.period
    reps = {c.rep_id for d in view.deals if period.contains(d.day) for c in d.payload.credits}
    reps |= {c.rep_id for r in view.renewals if period.contains(r.day) for c in r.payload.credits}
    reps |= {c.payload.rep_id for c in view.complaints if period.contains(c.day)}
    reps |= {rep for s in view.coaching if period.contains(s.day) for rep in s.payload.rep_ids}
    reps |= {t.scope.removeprefix("rep:") for t in view.targets if t.scope.startswith("rep:")}
    reps |= {a.payload.rep_id for a in view.adjustments if a.payload.period == period.name}
    return reps
