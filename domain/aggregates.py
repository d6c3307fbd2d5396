"""Aggregates: each inbound fact and decision recorded once, under an id derived from its identity."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.envelope import Envelope
from domain.facts import DealClosed

NAMESPACE = uuid5(NAMESPACE_URL, "perfledger")


def fact_id(key: str) -> UUID:
    """The aggregate id of a fact with idempotency key `source/id`."""
    return uuid5(NAMESPACE, f"fact:{key}")


def deal_id_of(deal_id: str) -> UUID:
    """The aggregate id of a deal: one deal per business deal id."""
    return uuid5(NAMESPACE, f"deal:{deal_id}")


def created_id(envelope: Envelope) -> UUID:
    """The id of the aggregate a fact or decision creates: its deal's for a deal's close (one
    deal per deal id), else its own from its idempotency key."""
    if isinstance(envelope.payload, DealClosed):
        return deal_id_of(envelope.payload.deal_id)
    return fact_id(envelope.key)


def rejection_id(digest: str) -> UUID:
    """The aggregate id of a rejected input, from the sha256 of its bytes."""
    return uuid5(NAMESPACE, f"reject:{digest}")


class RecordedFact(Aggregate):
    """A fact or decision reported once and never changed; its creation event holds the envelope."""

    class Recorded(Aggregate.Created):
        source: str
        event_id: str
        kind: str
        time: str
        data: dict[str, Any]
        content_hash: str

    def __init__(self, source: str, event_id: str, kind: str, time: str,
                 data: dict[str, Any], content_hash: str) -> None:
        self.source = source
        self.event_id = event_id
        self.kind = kind
        self.time = time
        self.data = data
        self.content_hash = content_hash

    @property
    def key(self) -> str:
        """The idempotency key `source/id` of the creating event."""
        return f"{self.source}/{self.event_id}"

    @classmethod
    def record(cls, envelope: Envelope, aggregate_id: UUID, recorded_at: Any) -> RecordedFact:
        """Record the envelope as a new aggregate of this class."""
        return cls._create(CREATION_EVENT[cls], id=aggregate_id, timestamp=recorded_at,
                           **envelope_fields(envelope))


def envelope_fields(envelope: Envelope) -> dict[str, Any]:
    """The stored form of an envelope: identity, type, canonical time, data and hash."""
    return {"source": envelope.source, "event_id": envelope.id, "kind": envelope.type,
            "time": envelope.stored_time, "data": envelope.stored_data,
            "content_hash": envelope.content_hash}


class Deal(RecordedFact):
    """A deal: closed once (its id derives from the deal id), then delivered and/or cancelled
    (the intake appends those: domain/intake.py)."""

    class Closed(RecordedFact.Recorded):
        pass

    class Delivered(Aggregate.Event):
        source: str
        event_id: str
        kind: str
        time: str
        data: dict[str, Any]
        content_hash: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Deal)
            aggregate.lifecycle[self.kind] = (f"{self.source}/{self.event_id}", self.content_hash)

    class Cancelled(Delivered):
        pass

    def __init__(self, source: str, event_id: str, kind: str, time: str,
                 data: dict[str, Any], content_hash: str) -> None:
        super().__init__(source, event_id, kind, time, data, content_hash)
        self.deal_id: str = data["deal_id"]
        self.product_line: str = data["product_line"]
        self.lifecycle: dict[str, tuple[str, str]] = {}


class Renewal(RecordedFact):
    class Booked(RecordedFact.Recorded):
        pass


class Complaint(RecordedFact):
    class Logged(RecordedFact.Recorded):
        pass


class CoachingSession(RecordedFact):
    class Held(RecordedFact.Recorded):
        pass


class Target(RecordedFact):
    """A target decision; a later one for the same scope, metric and period revises it."""

    class Set(RecordedFact.Recorded):
        pass


class RosterAssignment(RecordedFact):
    class Assigned(RecordedFact.Recorded):
        pass


class KeyClaim(Aggregate):
    """Reserves the idempotency key of a fact kept inside its deal (close, delivery,
    cancellation), so the key cannot be recorded again with other content."""

    class Claimed(Aggregate.Created):
        key: str
        content_hash: str

    def __init__(self, key: str, content_hash: str) -> None:
        self.key = key
        self.content_hash = content_hash

    @classmethod
    def claim(cls, envelope: Envelope, recorded_at: Any) -> KeyClaim:
        """Claim the envelope's key for its content."""
        return cls._create(cls.Claimed, id=fact_id(envelope.key), timestamp=recorded_at,
                           key=envelope.key, content_hash=envelope.content_hash)


class Adjustment(RecordedFact):
    """A correction booked in a later period (the ledger's own event, keyed like a fact)."""

    class Posted(RecordedFact.Recorded):
        pass


class Rejection(Aggregate):
    """Input the ledger refused, kept verbatim with the reason naming the field."""

    class Recorded(Aggregate.Created):
        raw: str
        reason: str
        origin: str

    def __init__(self, raw: str, reason: str, origin: str) -> None:
        self.raw = raw
        self.reason = reason
        self.origin = origin


AGGREGATE_FOR_TYPE: dict[str, type[RecordedFact]] = {
    "deal.closed": Deal,
    "renewal.booked": Renewal,
    "complaint.logged": Complaint,
    "coaching.session_held": CoachingSession,
    "target.set": Target,
    "roster.assigned": RosterAssignment,
}

# The event a delivery or cancellation appends to its deal.
LIFECYCLE_EVENT: dict[str, type[Deal.Delivered]] = {
    "deal.delivered": Deal.Delivered, "deal.cancelled": Deal.Cancelled}

CREATION_EVENT: dict[type[RecordedFact], type[RecordedFact.Recorded]] = {
    RecordedFact: RecordedFact.Recorded,
    Deal: Deal.Closed,
    Renewal: Renewal.Booked,
    Complaint: Complaint.Logged,
    CoachingSession: CoachingSession.Held,
    Target: Target.Set,
    RosterAssignment: RosterAssignment.Assigned,
    Adjustment: Adjustment.Posted,
}
