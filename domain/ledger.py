"""The Ledger application: the only writer of the event store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.envelope import Envelope
from domain.errors import DomainError
from domain.intake import BatchIntake, Incoming, IngestReport
from domain.periods import Period, periods_of
from domain.plan import Plan, parse_plan
from domain.plan_book import PLAN_BOOK_ID, PlanBook

MAX_ATTEMPTS = 5


class Ledger(Application[UUID]):
    """Records facts and decisions as immutable events; deterministic ids make redelivery a no-op."""

    name = "perfledger"

    def __init__(self, env: dict[str, str] | None = None, *,
                 clock: Callable[[], datetime], default_currency: str = "USD") -> None:
        super().__init__(env)
        self.clock = clock
        self.default_currency = default_currency

    def record_facts(self, batch: Sequence[Incoming]) -> IngestReport:
        """Validate and record a batch in one transaction; duplicates are dropped, rejects kept."""
        for attempt in range(MAX_ATTEMPTS):
            book = self.plan_book()
            intake = BatchIntake(self.clock(), self._find, partial(self._currency, book),
                                 check_store=attempt > 0)
            for item in batch:
                intake.take(item)
            try:
                self.save(*intake.aggregates())
            except IntegrityError:
                continue  # another writer got there first: classify again against the store
            return intake.report
        raise DomainError("the store kept refusing the batch; try again")

    def publish_plan(self, document: str) -> Plan:
        """Validate and publish a plan version; publishing the same document again is a no-op."""
        plan = parse_plan(document)
        book = self.plan_book()
        book.publish(plan, document, self.clock())
        self.save(book)
        return plan

    def adopt_plan(self, period: str, plan_ref: str) -> None:
        """Adopt a published plan version (`id@version`) for a period."""
        book = self.plan_book()
        book.adopt(Period.parse(period), plan_ref, self.clock())
        self.save(book)

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

    def _currency(self, book: PlanBook, envelope: Envelope) -> str:
        quarter, month = periods_of(envelope.time.date())
        plan = book.plan_for(month) if _adopted(book, month) else book.plan_for(quarter)
        return plan.currency if plan is not None else self.default_currency


def _adopted(book: PlanBook, period: Period) -> bool:
    return any(name == period.name for name, _, _ in book.adoptions)
