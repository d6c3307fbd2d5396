"""Facts about existing accounts: renewals booked by billing, complaints logged by support."""

from __future__ import annotations

from typing import Any

from perfledger.simulation.deals import CURRENCY
from perfledger.simulation.floor import SalesFloor


def book_renewal(floor: SalesFloor, time: str, visible_deals: int) -> dict[str, Any]:
    """A renewal credited to one owner: of one of the first `visible_deals` enterprise deals
    closed in the period now and then, otherwise of an account of the existing base."""
    rand = floor.rand
    floor.renewals += 1
    renewed_deal = None
    if visible_deals and rand() < 0.25:
        renewed_deal, customer, owner = floor.enterprise_deals[int(rand() * visible_deals)]
    else:
        customer = floor.customers.existing_enterprise(rand())
        owner = _account_owner(floor)
    dollars = min(150_000, 2_000 + int(floor.expovariate(1 / 18_000)))
    dollars -= dollars % 10
    term = rand()
    renewal: dict[str, Any] = {
        "renewal_id": f"R-{floor.tag}{floor.renewals}",
        "customer_id": customer,
    }
    if renewed_deal is not None:
        renewal["deal_id"] = renewed_deal
    renewal["amount"] = f"{dollars}.00"
    renewal["currency"] = CURRENCY
    renewal["term_months"] = 12 if term < 0.6 else (24 if term < 0.88 else 36)
    renewal["credits"] = [{"rep_id": owner, "role": "owner", "split": "1"}]
    return floor.record("billing", "renewal.booked", time, renewal)


def _account_owner(floor: SalesFloor) -> str:
    """Mostly an aftersales rep, else an enterprise AE, else anyone on a roster without either."""
    rand = floor.rand
    staff = floor.staff
    if staff.aftersales and rand() < 0.6:
        return staff.aftersales[int(rand() * len(staff.aftersales))]
    if staff.enterprise:
        return staff.enterprise[int(rand() * len(staff.enterprise))]
    return staff.rep_ids[int(rand() * len(staff.rep_ids))]


def log_support_complaint(floor: SalesFloor, time: str) -> dict[str, Any]:
    """A support or billing complaint of an existing customer, not tied to a deal."""
    rand = floor.rand
    floor.complaints += 1
    if rand() < 0.5:
        customer = floor.customers.existing_enterprise(rand())
    else:
        customer = floor.customers.existing_consumer(rand())
    rep_ids = floor.staff.rep_ids
    return floor.record(
        "support",
        "complaint.logged",
        time,
        {
            "complaint_id": f"CMP-{floor.tag}{floor.complaints}",
            "customer_id": customer,
            "rep_id": rep_ids[int(rand() * len(rep_ids))],
            "severity": "low" if rand() < 0.75 else "medium",
            "category": "support" if rand() < 0.6 else "billing",
        },
    )
