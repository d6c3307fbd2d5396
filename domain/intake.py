"""Taking in a batch of inbound lines: validate, classify (new, duplicate, conflict), never half-apply."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.aggregates import (
    AGGREGATE_FOR_TYPE,
    Deal,
    KeyClaim,
    RecordedFact,
    Rejection,
    deal_id_of,
    fact_id,
    rejection_id,
)
from domain.envelope import LIFECYCLE_TYPES, Envelope, decode_event
from domain.errors import InvalidInput
from domain.facts import CreditedSale, DealClosed


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


class BatchIntake:
    """Decides, line by line, what a batch records; `aggregates()` is then saved at once."""

    def __init__(self, recorded_at: datetime, find: Callable[[UUID], Aggregate | None],
                 currency_for: Callable[[Envelope], str], check_store: bool) -> None:
        self.recorded_at = recorded_at
        self.find = find
        self.currency_for = currency_for
        self.check_store = check_store
        self.pending: dict[UUID, Aggregate] = {}
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

    def aggregates(self) -> list[Aggregate]:
        """Everything the batch changes, to be saved in one transaction."""
        return list(self.pending.values())

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
        claim = self._existing(fact_id(envelope.key))
        if claim is not None:
            return _compare(claim, envelope)
        if envelope.type in LIFECYCLE_TYPES:
            outcome = self._record_lifecycle(envelope)
        else:
            outcome = self._record_fact(envelope)
        if outcome == "accepted":
            self.pending[fact_id(envelope.key)] = KeyClaim.claim(envelope, self.recorded_at)
        return outcome

    def _record_fact(self, envelope: Envelope) -> str:
        cls = AGGREGATE_FOR_TYPE[envelope.type]
        if isinstance(envelope.payload, DealClosed):
            aggregate_id = deal_id_of(envelope.payload.deal_id)
        else:
            aggregate_id = fact_id(envelope.key)
        existing = self._existing(aggregate_id)
        if existing is not None:
            return _compare(existing, envelope)
        self.pending[aggregate_id] = cls.record(envelope, aggregate_id, self.recorded_at)
        return "accepted"

    def _record_lifecycle(self, envelope: Envelope) -> str:
        deal_key: str = getattr(envelope.payload, "deal_id")  # noqa: B009
        deal = self._existing(deal_id_of(deal_key), always=True)
        if not isinstance(deal, Deal):
            return f"data.deal_id: unknown deal {deal_key} (its deal.closed must come first)"
        status = deal.lifecycle_status(envelope)
        if status == "new":
            deal.record_lifecycle(envelope, self.recorded_at)
            self.pending[deal.id] = deal
            return "accepted"
        return status

    def _existing(self, aggregate_id: UUID, *, always: bool = False) -> Aggregate | None:
        if aggregate_id in self.pending:
            return self.pending[aggregate_id]
        if always or self.check_store:
            return self.find(aggregate_id)
        return None

    def _reject(self, item: Incoming, reason: str) -> None:
        raw = item.text()
        self.report.rejected.append(Rejected(raw, reason, item.origin))
        digest = hashlib.sha256(raw.encode()).hexdigest()
        aggregate_id = rejection_id(digest)
        if aggregate_id not in self.pending and self._existing(aggregate_id) is None:
            self.pending[aggregate_id] = Rejection._create(
                Rejection.Recorded, id=aggregate_id, timestamp=self.recorded_at,
                raw=raw, reason=reason, origin=item.origin)


def _compare(existing: Aggregate, envelope: Envelope) -> str:
    """'duplicate' for the same key and content, else the reason for the conflict."""
    assert isinstance(existing, (RecordedFact, KeyClaim))
    if existing.key == envelope.key:
        if existing.content_hash == envelope.content_hash:
            return "duplicate"
        return f"id: {envelope.key} was already recorded with different content"
    return (f"data.deal_id: deal {getattr(existing, 'deal_id', '?')} was already closed "
            f"by {existing.key}")
