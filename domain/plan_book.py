"""The plan book: every published plan version and which plan each period adopted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.aggregates import NAMESPACE
from domain.errors import DomainError, PlanNotFound
from domain.periods import Period
from domain.plan import Plan, parse_plan

PLAN_BOOK_ID: UUID = uuid5(NAMESPACE, "plan-book")


@dataclass(frozen=True)
class PublishedPlan:
    """A published plan version: its document, hash and when it was recorded."""

    plan_id: str
    version: int
    sha256: str
    document: str
    recorded_at: datetime

    @property
    def ref(self) -> str:
        """`id@version`."""
        return f"{self.plan_id}@{self.version}"


class PlanBook(Aggregate):
    """One per ledger: plans are published once per version and adopted per period."""

    class Opened(Aggregate.Created):
        pass

    class PlanPublished(Aggregate.Event):
        plan_id: str
        version: int
        sha256: str
        document: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, PlanBook)
            plan = PublishedPlan(self.plan_id, self.version, self.sha256, self.document,
                                 self.timestamp)
            aggregate.published[plan.ref] = plan

    class PlanAdopted(Aggregate.Event):
        period: str
        plan_ref: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, PlanBook)
            aggregate.adoptions.append((self.period, self.plan_ref, self.timestamp))

    def __init__(self) -> None:
        self.published: dict[str, PublishedPlan] = {}
        self.adoptions: list[tuple[str, str, datetime]] = []
        self._parsed: dict[str, Plan] = {}

    @classmethod
    def open(cls) -> PlanBook:
        """The ledger's (empty) plan book."""
        return cls._create(cls.Opened, id=PLAN_BOOK_ID)

    def check_publishable(self, plan: Plan) -> bool:
        """False if this exact version was already published; raises if it differs."""
        known = self.published.get(plan.ref)
        if known is None:
            return True
        if known.sha256 == plan.sha256:
            return False
        raise DomainError(f"version: {plan.ref} was already published with sha256 "
                          f"{known.sha256[:12]}…; publish it as a new version")

    def publish(self, plan: Plan, document: str, recorded_at: datetime) -> None:
        """Record a new plan version."""
        if self.check_publishable(plan):
            self.trigger_event(self.PlanPublished, plan_id=plan.id, version=plan.version,
                               sha256=plan.sha256, document=document, timestamp=recorded_at)

    def adopt(self, period: Period, plan_ref: str, recorded_at: datetime) -> None:
        """Adopt a published plan version for a period."""
        if plan_ref not in self.published:
            raise PlanNotFound(f"plan: {plan_ref} is not published (see `perfledger plan publish`)")
        self.trigger_event(self.PlanAdopted, period=period.name, plan_ref=plan_ref,
                           timestamp=recorded_at)

    def plan(self, plan_ref: str) -> Plan:
        """The parsed plan of a published version."""
        if plan_ref not in self._parsed:
            if plan_ref not in self.published:
                raise PlanNotFound(f"plan: {plan_ref} is not published")
            self._parsed[plan_ref] = parse_plan(self.published[plan_ref].document)
        return self._parsed[plan_ref]

    def plan_for(self, period: Period, known_at: datetime | None = None) -> Plan | None:
        """The plan adopted for the period, else the most recently published one."""
        def known(at: datetime) -> bool:
            return known_at is None or at <= known_at

        adopted = [ref for name, ref, at in self.adoptions if name == period.name and known(at)]
        if adopted:
            return self.plan(adopted[-1])
        latest = [plan for plan in self.published.values() if known(plan.recorded_at)]
        return self.plan(latest[-1].ref) if latest else None
