"""Credited revenue (SPEC §7 step 1): which deals and renewals count for a rep in a period."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from domain.adjustments import AdjustmentPosted
from domain.engine.view import SALE_ORDER, LedgerView, Recorded, known_facts
from domain.facts import (
    CoachingSessionHeld,
    ComplaintLogged,
    DealCancelled,
    DealClosed,
    DealDelivered,
    RenewalBooked,
)
from domain.plan import Plan

T = TypeVar("T")


@dataclass(frozen=True)
class Sale:
    """A deal or renewal as it counts for one rep: the fact and the rep's credited amount."""

    fact: Recorded[DealClosed] | Recorded[RenewalBooked]
    credited: Decimal

    @property
    def is_deal(self) -> bool:
        """True for a deal, False for a renewal."""
        return isinstance(self.fact.payload, DealClosed)


def removes(plan: Plan, closed: date, cancelled: date) -> bool:
    """True when a cancellation on `cancelled` removes a deal closed on `closed`: within the
    plan's cancellation window, or always when the plan has none."""
    window = plan.clawback.cancellation_window_days if plan.clawback else None
    return window is None or (cancelled - closed).days <= window


class CreditBook:
    """Answers, for a view and a plan, which sales count and how much each rep is credited."""

    def __init__(self, view: LedgerView, plan: Plan) -> None:
        self.view = view
        self.plan = plan
        known_deals = known_facts(view, view.deals)
        self.deals = [d for d in known_deals if view.period.contains(d.day)]
        self.renewals = [r for r in known_facts(view, view.renewals)
                         if view.period.contains(r.day)]
        self.cancellations = known_facts(view, view.cancellations)
        self.deliveries = known_facts(view, view.deliveries)
        self._cancelled = self._cancellations_by_deal(self.cancellations)
        self.complaints_against: dict[str, list[Recorded[ComplaintLogged]]] = {}
        for complaint in known_facts(view, view.complaints):
            self.complaints_against.setdefault(complaint.payload.rep_id, []).append(complaint)
        self.coaching_of: dict[str, list[Recorded[CoachingSessionHeld]]] = {}
        for session in known_facts(view, view.coaching):
            if view.period.contains(session.day):
                for coachee in session.payload.rep_ids:
                    self.coaching_of.setdefault(coachee, []).append(session)
        self.deal_by_id = {d.payload.deal_id: d for d in known_deals}
        self._deals_of: dict[str, list[Recorded[DealClosed]]] = {}
        for deal in self.deals:
            for credit in deal.payload.credits:
                self._deals_of.setdefault(credit.rep_id, []).append(deal)
        self._renewals_of: dict[str, list[Recorded[RenewalBooked]]] = {}
        for renewal in self.renewals:
            for credit in renewal.payload.credits:
                self._renewals_of.setdefault(credit.rep_id, []).append(renewal)
        self._sales: dict[str, list[Sale]] = {}
        self._counted: dict[str, list[Sale]] = {}
        self._revenue: dict[str, Decimal] = {}
        self._shared: dict[tuple[str, str], Any] = {}
        self._deliveries: dict[str, list[tuple[Recorded[DealDelivered], Recorded[DealClosed]]]] | None = None

    def deliveries_of(self, rep_id: str) -> list[tuple[Recorded[DealDelivered], Recorded[DealClosed]]]:
        """Deliveries in the period of deals crediting the rep, with the deal, in order."""
        if self._deliveries is None:
            self._deliveries = {}
            for delivery in self.deliveries:
                deal = self.deal_by_id.get(delivery.payload.deal_id)
                if deal is not None and self.view.period.contains(delivery.day):
                    for credit in deal.payload.credits:
                        self._deliveries.setdefault(credit.rep_id, []).append((delivery, deal))
        return self._deliveries.get(rep_id, [])

    def adjustments_of(self, rep_id: str) -> list[Recorded[AdjustmentPosted]]:
        """Adjustments booked in this period's statement of the rep, oldest first."""
        return [a for a in known_facts(self.view, self.view.adjustments)
                if a.payload.rep_id == rep_id and a.payload.period == self.view.period.name]

    def deals_of(self, rep_id: str) -> list[Recorded[DealClosed]]:
        """The period's deals crediting the rep, cancelled or not, in (time, event id) order."""
        return self._deals_of.get(rep_id, [])

    @staticmethod
    def _cancellations_by_deal(cancellations: list[Recorded[DealCancelled]]
                               ) -> dict[str, Recorded[DealCancelled]]:
        first: dict[str, Recorded[DealCancelled]] = {}
        for cancellation in cancellations:
            first.setdefault(cancellation.payload.deal_id, cancellation)
        return first

    def cancellation_record(self, deal_id: str) -> Recorded[DealCancelled] | None:
        """The deal's (first) known cancellation, wherever it falls."""
        return self._cancelled.get(deal_id)

    def cancellation_of(self, deal: Recorded[DealClosed]) -> Recorded[DealCancelled] | None:
        """The cancellation that removes the deal, if one is known within the window."""
        cancellation = self._cancelled.get(deal.payload.deal_id)
        if cancellation is None or not removes(self.plan, deal.day, cancellation.day):
            return None
        return cancellation

    def counted_deals(self, rep_id: str) -> list[Sale]:
        """The rep's deals of the period that still count, in (time, event id) order."""
        if rep_id not in self._counted:
            cancelled = self._cancelled
            self._counted[rep_id] = [
                Sale(deal, deal.payload.amount * deal.payload.split_of(rep_id))
                for deal in self.deals_of(rep_id)
                if deal.payload.deal_id not in cancelled or self.cancellation_of(deal) is None]
        return self._counted[rep_id]

    def credited_renewals(self, rep_id: str) -> list[Sale]:
        """The rep's renewals of the period with their credited amounts."""
        return [Sale(r, r.payload.amount * r.payload.split_of(rep_id))
                for r in self._renewals_of.get(rep_id, [])]

    def renewals_count(self) -> bool:
        """True if the plan counts renewals toward attainment."""
        return bool(self.plan.renewals and self.plan.renewals.count_toward_attainment)

    def attainment_sales(self, rep_id: str) -> list[Sale]:
        """Sales that make up the rep's credited revenue, in (time, event id) order."""
        if rep_id not in self._sales:
            sales = list(self.counted_deals(rep_id))
            if self.renewals_count():
                sales += self.credited_renewals(rep_id)
            self._sales[rep_id] = sorted(sales, key=SALE_ORDER)
        return self._sales[rep_id]

    def credited_revenue(self, rep_id: str) -> Decimal:
        """Credited amounts of the rep's counted deals (plus renewals when they count)."""
        if rep_id not in self._revenue:
            self._revenue[rep_id] = sum((sale.credited for sale in self.attainment_sales(rep_id)),
                                        Decimal(0))
        return self._revenue[rep_id]

    def shared(self, key: tuple[str, str], compute: Callable[[], T]) -> T:
        """A figure every member of a team needs (the team's target, revenue, sources),
        computed once per book."""
        if key not in self._shared:
            self._shared[key] = compute()
        result: T = self._shared[key]
        return result
