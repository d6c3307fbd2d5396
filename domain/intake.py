"""Taking in a batch of inbound lines: validate, classify (new, duplicate, conflict), never half-apply."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification, StoredEvent

from domain.aggregates import (
    AGGREGATE_FOR_TYPE,
    LIFECYCLE_EVENT,
    KeyClaim,
    Rejection,
    created_id,
    deal_id_of,
    envelope_fields,
    fact_id,
    rejection_id,
)
from domain.envelope import LIFECYCLE_TYPES, Envelope, decode_event
from domain.errors import InvalidInput
from domain.facts import CreditedSale, DealClosed
from domain.recording import Recording


@dataclass(frozen=True)
class Incoming:
    """One inbound line and where it came from (file and line, or topic, partition and offset)."""

    raw: bytes | str
    origin: str = ""

    def text(self) -> str:
        """The line as text, exactly as received (undecodable bytes escaped)."""
        raw = self.raw
        return raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else raw


@dataclass(frozen=True)
class Rejected:
    """A refused line, verbatim, with the reason naming the field."""

    raw: str
    reason: str
    origin: str


@dataclass
class IngestReport:
    """What a batch did: keys accepted, duplicates dropped, lines rejected, and the count of
    each outcome by event type (`invalid` when the type could not be read)."""

    accepted: list[str] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    by_type: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, other: IngestReport) -> None:
        """Fold another batch's report into this one."""
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.by_type.update(other.by_type)


@dataclass
class Known:
    """What the intake knows of one recorded aggregate, from this batch or the store: enough to
    tell a repeat from a conflict, and where a deal's next event goes."""

    key: str
    content_hash: str
    deal_id: str | None = None
    version: int = 1
    lifecycle: dict[str, tuple[str, str]] = field(default_factory=dict)  # a deal's, by type

    @classmethod
    def of(cls, aggregate: Aggregate) -> Known:
        """What an aggregate read from the store tells (a rejection only that it exists)."""
        return cls(getattr(aggregate, "key", ""), getattr(aggregate, "content_hash", ""),
                   getattr(aggregate, "deal_id", None), aggregate.version,
                   dict(getattr(aggregate, "lifecycle", {})))

    def compare(self, envelope: Envelope) -> str:
        """'duplicate' for the same key and content, else the reason for the conflict."""
        if self.key == envelope.key:
            if self.content_hash == envelope.content_hash:
                return "duplicate"
            return f"id: {envelope.key} was already recorded with different content"
        return f"data.deal_id: deal {self.deal_id or '?'} was already closed by {self.key}"

    def copy(self) -> Known:
        """The same knowledge, to be changed on its own."""
        return replace(self, lifecycle=dict(self.lifecycle))

    def lifecycle_status(self, envelope: Envelope) -> str:
        """'new', 'duplicate' or a conflict reason for a delivery or cancellation of this deal."""
        known = self.lifecycle.get(envelope.type)
        if known is None:
            return "new"
        if known == (envelope.key, envelope.content_hash):
            return "duplicate"
        if known[0] == envelope.key:
            return f"id: {envelope.key} was already recorded with different content"
        return f"data.deal_id: deal {self.deal_id} already has {envelope.type} {known[0]}"


class BatchIntake:
    """Decides, line by line, what a batch records; `stored_events()` is then inserted at once."""

    def __init__(self, recorded_at: datetime, find: Callable[[UUID], Aggregate | None],
                 currency_for: Callable[[Envelope], str], check_store: bool,
                 deals: Mapping[UUID, Known] | None = None) -> None:
        self.find = find
        self.currency_for = currency_for
        self.check_store = check_store
        self.deals = deals or {}  # deals as committed before, when known without the store
        self.recording = Recording(recorded_at)
        self.known: dict[UUID, Known] = {}  # what this batch records, by aggregate id
        self.report = IngestReport()

    def take(self, item: Incoming) -> None:
        """Validate one line and record it, count it as a duplicate, or reject it."""
        kind = "invalid"
        try:
            envelope = decode_event(item.raw)
            kind = envelope.type
            self._check_currency(envelope)
            outcome = self._record(envelope)
        except InvalidInput as error:
            self._reject(item, str(error))
            self.report.by_type["rejected", kind] += 1
            return
        if outcome == "duplicate":
            self.report.duplicates += 1
        elif outcome == "accepted":
            self.report.accepted.append(envelope.key)
        else:
            self._reject(item, outcome)
            outcome = "rejected"
        self.report.by_type[outcome, kind] += 1

    def stored_events(self) -> list[StoredEvent]:
        """Everything the batch records, to be inserted in one transaction."""
        return self.recording.stored_events()

    def logged(self, positions: list[int]) -> list[tuple[int, Any, Notification]]:
        """`stored_events()` at the log positions they were inserted at, with their domain events."""
        return self.recording.logged(positions)

    def _check_currency(self, envelope: Envelope) -> None:
        if isinstance(envelope.payload, CreditedSale):
            expected = self.currency_for(envelope)
            if envelope.payload.currency != expected:
                raise InvalidInput("data.currency", f"{envelope.payload.currency} does not match "
                                   f"the plan currency {expected}")

    def _record(self, envelope: Envelope) -> str:
        if envelope.type in LIFECYCLE_TYPES or isinstance(envelope.payload, DealClosed):
            return self._record_in_deal(envelope)
        return self._record_fact(envelope)

    def _record_in_deal(self, envelope: Envelope) -> str:
        """Deal facts live in the deal's aggregate; a claim keeps their key from being reused."""
        claim_id = fact_id(envelope.key)
        claim = self._existing(claim_id)
        if claim is not None:
            return claim.compare(envelope)
        if envelope.type in LIFECYCLE_TYPES:
            outcome = self._record_lifecycle(envelope)
        else:
            outcome = self._record_fact(envelope)
        if outcome == "accepted":
            self.recording.create(KeyClaim, claim_id, {
                "key": envelope.key, "content_hash": envelope.content_hash})
            self.known[claim_id] = Known(envelope.key, envelope.content_hash)
        return outcome

    def _record_fact(self, envelope: Envelope) -> str:
        aggregate_id = created_id(envelope)
        existing = self._existing(aggregate_id)
        if existing is not None:
            return existing.compare(envelope)
        self.recording.create(AGGREGATE_FOR_TYPE[envelope.type], aggregate_id,
                              envelope_fields(envelope))
        deal = envelope.payload.deal_id if isinstance(envelope.payload, DealClosed) else None
        self.known[aggregate_id] = Known(envelope.key, envelope.content_hash, deal)
        return "accepted"

    def _record_lifecycle(self, envelope: Envelope) -> str:
        deal_key: str = getattr(envelope.payload, "deal_id")  # noqa: B009
        aggregate_id = deal_id_of(deal_key)
        deal = self._existing(aggregate_id, always=True)
        if deal is None or deal.deal_id is None:
            return f"data.deal_id: unknown deal {deal_key} (its deal.closed must come first)"
        status = deal.lifecycle_status(envelope)
        if status == "new":
            deal.version += 1
            deal.lifecycle[envelope.type] = (envelope.key, envelope.content_hash)
            self.recording.append(LIFECYCLE_EVENT[envelope.type], aggregate_id, deal.version,
                                  envelope_fields(envelope))
            return "accepted"
        return status

    def _existing(self, aggregate_id: UUID, *, always: bool = False) -> Known | None:
        if aggregate_id in self.known:
            return self.known[aggregate_id]
        if always and aggregate_id in self.deals:
            self.known[aggregate_id] = self.deals[aggregate_id].copy()
            return self.known[aggregate_id]
        if always or self.check_store:
            found = self.find(aggregate_id)
            if found is not None:
                self.known[aggregate_id] = Known.of(found)
                return self.known[aggregate_id]
        return None

    def _reject(self, item: Incoming, reason: str) -> None:
        raw = item.text()
        self.report.rejected.append(Rejected(raw, reason, item.origin))
        digest = hashlib.sha256(raw.encode()).hexdigest()
        aggregate_id = rejection_id(digest)
        if self._existing(aggregate_id) is None:
            self.recording.create(Rejection, aggregate_id,
                                  {"raw": raw, "reason": reason, "origin": item.origin})
            self.known[aggregate_id] = Known("", "")
