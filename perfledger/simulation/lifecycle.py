"""What follows a closed deal on a later day: its delivery, its cancellation, a complaint."""

from __future__ import annotations

from typing import Any

from perfledger.simulation.floor import SalesFloor
from perfledger.simulation.schedule import Cancellation, Delivery, FollowUp


def record_follow_up(floor: SalesFloor, fact: FollowUp, time: str) -> dict[str, Any]:
    """The event of a follow-up fallen due: `deal.delivered`, `deal.cancelled` or a complaint."""
    if isinstance(fact, Delivery):
        return floor.record("crm", "deal.delivered", time, {"deal_id": fact.deal_id})
    if isinstance(fact, Cancellation):
        data = {"deal_id": fact.deal_id, "reason": fact.reason}
        return floor.record("crm", "deal.cancelled", time, data)
    floor.complaints += 1
    return floor.record(
        "support",
        "complaint.logged",
        time,
        {
            "complaint_id": f"CMP-{floor.tag}{floor.complaints}",
            "customer_id": fact.customer_id,
            "rep_id": fact.rep_id,
            "deal_id": fact.deal_id,
            "severity": fact.severity,
            "category": fact.category,
        },
    )
