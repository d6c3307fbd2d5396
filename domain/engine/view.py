"""What the engine sees of the ledger: recorded facts and decisions, as plain frozen records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

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
        return (self.time, self.event_id)


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
    known_at: datetime | None = None

    def known(self, recorded_at: datetime | None) -> bool:
        """True if something recorded at `recorded_at` was known at the view's `known_at`."""
        return self.known_at is None or recorded_at is None or recorded_at <= self.known_at


def known_facts(view: LedgerView, facts: Iterable[Recorded[P]]) -> list[Recorded[P]]:
    """The facts recorded up to the view's `known_at`, in the rules' order."""
    return sorted((f for f in facts if view.known(f.recorded_at)), key=lambda f: f.order)
