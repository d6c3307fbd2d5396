"""The Ledger application: the only writer of the event store."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Notification

from domain.adjustments import AdjustmentPosted, adjustment_envelope
from domain.aggregates import Adjustment, fact_id
from domain.audit import AccountingPeriod, Dispute, IssuedStatement, dispute_uuid, period_id, statement_id
from domain.envelope import Envelope
from domain.errors import DomainError
from domain.intake import BatchIntake, Incoming, IngestReport, Known
from domain.periods import Period, periods_of
from domain.plan import Plan, parse_plan
from domain.plan_book import PLAN_BOOK_ID, PlanBook

MAX_ATTEMPTS = 5
# The most stored-event bytes one transaction inserts: a larger batch is recorded in halves. On
# PostgreSQL eventsourcing inserts a batch as one array parameter inside a psycopg pipeline, and
# with psycopg 3.3 and libpq 18 that hangs for good, client and server each waiting for the other,
# once the array is past about 8 MB (a 10,000-line batch of the simulated quarter; 600 rejected
# lines of 20 KB, when the array went as text; perfledger/event_store.py now sends it in binary,
# about the size of the states themselves).
STORED_BYTES_PER_TRANSACTION = 4_000_000
# The most recorded events kept for the projections to take without reading them back (a few
# batches); past it the oldest are dropped, and read from the store as any other writer's are.
HANDED_OVER_AT_MOST = 20_000
DEALS_KEPT = 200_000  # deals whose versions and lifecycles a ledger keeps from its own batches


@dataclass(frozen=True)
class Restatement:
    """A recomputed statement of a closed period, as known at `known_at`, and what caused it."""

    statement: dict[str, Any]
    known_at: datetime
    causes: tuple[str, ...]


class Ledger(Application[UUID]):
    """Records facts and decisions as immutable events; deterministic ids make redelivery a no-op."""

    name = "perfledger"

    def __init__(self, env: dict[str, str] | None = None, *,
                 clock: Callable[[], datetime], default_currency: str = "USD") -> None:
        super().__init__(env)
        if self.mapper.compressor is not None or self.mapper.cipher is not None:
            raise DomainError("the event store is written as plain JSON (domain/recording.py): "
                              "leave COMPRESSOR_TOPIC and CIPHER_TOPIC unset")
        self.clock = clock
        self.default_currency = default_currency
        self._recorded: list[tuple[int, Any, Notification]] = []  # by log position, not yet taken
        # Whether a recorded batch's events are kept for `take_recorded`: not while another
        # process applies them to the read models (it reads them back from the store).
        self.hands_over = True
        self._deals: dict[UUID, Known] = {}  # deals this ledger committed, oldest first

    def record_facts(self, batch: Sequence[Incoming]) -> IngestReport:
        """Validate and record a batch in one transaction; duplicates are dropped, rejects kept.
        A batch whose events would pass `STORED_BYTES_PER_TRANSACTION` is recorded in halves,
        one after the other: the second half finds the first's facts in the store."""
        for attempt in range(MAX_ATTEMPTS):
            book = self.plan_book()
            intake = BatchIntake(self.clock(), self._find, self._currencies(book),
                                 check_store=attempt > 0, deals=None if attempt else self._deals)
            for item in batch:
                intake.take(item)
            stored = intake.stored_events()
            if len(batch) > 1 and sum(len(event.state) for event in stored
                                      ) > STORED_BYTES_PER_TRANSACTION:
                report = self.record_facts(batch[:len(batch) // 2])
                report.add(self.record_facts(batch[len(batch) // 2:]))
                return report
            try:
                positions = self.recorder.insert_events(stored) if stored else []
            except IntegrityError:
                continue  # another writer got there first: classify again against the store
            self._hand_over(intake, positions, len(stored))
            self._remember_deals(intake.known)
            return intake.report
        raise DomainError("the store kept refusing the batch; try again")

    def take_recorded(self, start: int, limit: int) -> list[tuple[int, Any, Notification]]:
        """Up to `limit` events this ledger recorded, as (position, domain event, notification),
        at log positions `start`, `start + 1` and on, up to the first position it did not record:
        what the notification log holds there, without reading it back. Empty when this ledger
        did not record position `start` (another writer did, or it was taken already): read the
        log then. Events before `start` are dropped, as the caller has them."""
        recorded = self._recorded
        skipped = 0
        while skipped < len(recorded) and recorded[skipped][0] < start:
            skipped += 1
        del recorded[:skipped]
        count = 0
        while count < min(limit, len(recorded)) and recorded[count][0] == start + count:
            count += 1  # up to a position another writer recorded
        taken = recorded[:count]
        del recorded[:count]
        return taken

    def _remember_deals(self, known: dict[UUID, Known]) -> None:
        """Keep what a committed batch knows of its deals (their versions and lifecycles), so a
        later batch's delivery or cancellation of one need not read the deal back. Another
        writer may have appended to a deal since: the append then collides with its version,
        and the batch is classified again against the store."""
        for aggregate_id, deal in known.items():
            if deal.deal_id is not None:
                self._deals.pop(aggregate_id, None)
                self._deals[aggregate_id] = deal
        for _ in range(len(self._deals) - DEALS_KEPT):
            del self._deals[next(iter(self._deals))]

    def _hand_over(self, intake: BatchIntake, positions: Sequence[int] | None,
                   inserted: int) -> None:
        """Keep a batch's events for `take_recorded`, unless the store did not say where it
        inserted each of them (the batch is committed either way: they are read back then)."""
        if not self.hands_over or not positions or len(positions) != inserted:
            return
        if self._recorded and self._recorded[-1][0] >= positions[0]:
            self._recorded.clear()  # positions out of order: read them from the store
        self._recorded += intake.logged(list(positions))
        del self._recorded[:max(0, len(self._recorded) - HANDED_OVER_AT_MOST)]

    def publish_plan(self, document: str) -> Plan:
        """Validate and publish a plan version; publishing the same document again is a no-op."""
        plan = parse_plan(document)
        book = self.plan_book()
        book.publish(plan, document, self.clock())
        self.save(book)
        return plan

    def adopt_plan(self, period: str, plan_ref: str, *, restating: bool = False) -> None:
        """Adopt a published plan version (`id@version`) for a period. A closed period changes
        plan only through a replay that restates it."""
        if self.is_closed(period) and not restating:
            raise DomainError(f"PERIOD: {period} is closed; adopt a plan for it with "
                              "`perfledger replay PERIOD --plan FILE --apply`")
        book = self.plan_book()
        book.adopt(Period.parse(period), plan_ref, self.clock())
        self.save(book)

    def is_closed(self, period: str) -> bool:
        """True once the period's statements were issued."""
        return self._find(period_id(period)) is not None

    def first_open_after(self, period: Period) -> Period:
        """The first period of the same kind after `period` that is still open."""
        following = period.next()
        while self.is_closed(following.name):
            following = following.next()
        return following

    def issued(self, rep_id: str, period: str) -> IssuedStatement | None:
        """The rep's issued statements for the period, if any."""
        found = self._find(statement_id(rep_id, period))
        return found if isinstance(found, IssuedStatement) else None

    def close_period(self, period: str, statements: Sequence[dict[str, Any]],
                     known_at: datetime, plan_ref: str | None = None) -> None:
        """Lock the period and issue version 1 of every statement, computed as known at
        `known_at` under `plan_ref`, in one transaction. The plan is adopted for the period,
        so plans published later do not change it: only a replay that restates it does."""
        if self.is_closed(period):
            raise DomainError(f"PERIOD: {period} is already closed")
        at = self.clock()
        pinned: list[Aggregate] = []
        if plan_ref is not None:
            book = self.plan_book()
            book.adopt(Period.parse(period), plan_ref, at)
            pinned.append(book)
        self.save(AccountingPeriod.close(period, at), *pinned,
                  *(IssuedStatement.issue(s, known_at, at) for s in statements))

    def restate(self, period: str, restatements: Sequence[Restatement]) -> Period:
        """Issue the next version of each changed statement with its causes, and post each
        delta as an adjustment in the first open period after; return that period."""
        if not self.is_closed(period):
            raise DomainError(f"PERIOD: {period} is open; only a closed period is restated")
        at, target = self.clock(), self.first_open_after(Period.parse(period))
        changed: list[Aggregate] = []
        for restatement in restatements:
            statement = restatement.statement
            history = self.issued(statement["rep_id"], period)
            previous = Decimal(history.latest["total"]) if history else Decimal(0)
            if history is None:
                history = IssuedStatement.issue(statement, restatement.known_at, at)
            else:
                history.restate(statement, restatement.known_at, list(restatement.causes),
                                target.name, at)
            changed.append(history)
            delta = Decimal(statement["total"]) - previous
            if delta:
                changed.append(self._adjustment(
                    f"restatement/{period}/{statement['rep_id']}/v{history.version}", AdjustmentPosted(
                        rep_id=statement["rep_id"], period=target.name, amount=delta,
                        corrects_period=period, corrects_version=history.version,
                        reason="restatement"), at))
        self.save(*changed)
        return target

    def open_dispute(self, period: str, rep_id: str, line: int | None, reason: str) -> str:
        """Open a dispute on the rep's statement (optionally one line); return its id."""
        Period.parse(period)
        at = self.clock()
        history = self.issued(rep_id, period)
        if line is not None and history is not None and line > len(history.latest["lines"]):
            raise DomainError(f"--line: {rep_id}'s {period} statement (version {history.version}) "
                              f"has {len(history.latest['lines'])} lines, not {line}")
        seed = f"{rep_id}|{period}|{line}|{reason}|{at.isoformat()}"
        dispute_id = "dsp-" + hashlib.sha256(seed.encode()).hexdigest()[:10]
        self.save(Dispute.open(dispute_id, rep_id, period, line, reason,
                               history.version if history else None, at))
        return dispute_id

    def resolve_dispute(self, dispute_id: str, *, accepted: bool, amount: Decimal | None,
                        note: str) -> Period | None:
        """Accept (posting the amount as an adjustment in the first open period after the
        statement's period) or reject a dispute; return where an adjustment went."""
        dispute = self._find(dispute_uuid(dispute_id))
        if not isinstance(dispute, Dispute):
            raise DomainError(f"ID: no dispute {dispute_id}")
        at = self.clock()
        target = self.first_open_after(Period.parse(dispute.period)) if accepted else None
        dispute.resolve(accepted, amount, note, target.name if target else None, at)
        if target is None or amount is None:
            self.save(dispute)
            return None
        self.save(dispute, self._adjustment(f"dispute/{dispute_id}", AdjustmentPosted(
            rep_id=dispute.rep_id, period=target.name, amount=amount,
            corrects_period=dispute.period, dispute_id=dispute_id, reason=note), at))
        return target

    @staticmethod
    def _adjustment(key: str, payload: AdjustmentPosted, at: datetime) -> Aggregate:
        envelope = adjustment_envelope(key, payload)
        return Adjustment.record(envelope, fact_id(envelope.key), at)

    def plan_book(self) -> PlanBook:
        """The ledger's plan book (empty if no plan was ever published)."""
        found = self._find(PLAN_BOOK_ID)
        return found if isinstance(found, PlanBook) else PlanBook.open()

    def _find(self, aggregate_id: UUID) -> Aggregate | None:
        try:
            found: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, Aggregate) else None

    def _currencies(self, book: PlanBook) -> Callable[[Envelope], str]:
        """The plan currency of a sale's day, looked up once per day of the batch."""
        by_day: dict[date, str] = {}

        def currency(envelope: Envelope) -> str:
            day = envelope.time.date()
            if day not in by_day:
                quarter, month = periods_of(day)
                plan = book.plan_for(month) if _adopted(book, month) else book.plan_for(quarter)
                by_day[day] = plan.currency if plan is not None else self.default_currency
            return by_day[day]
        return currency


def _adopted(book: PlanBook, period: Period) -> bool:
    return any(name == period.name for name, _, _ in book.adoptions)
