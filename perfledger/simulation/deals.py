"""Closed deals: consumer-app licences and enterprise contracts, and what they set in motion."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

from perfledger.simulation.floor import SalesFloor
from perfledger.simulation.roster import AFTERSALES, PRESALES
from perfledger.simulation.schedule import Cancellation, DealComplaint, Delivery

CURRENCY = "USD"

_UNIT_PRICES_CENTS = (499, 999, 999, 1499, 1999)
_CONSUMER_COMPLAINT_CATEGORIES = ("billing", "support", "support", "overpromised")

# Split patterns of an enterprise deal: (cumulative probability, helpers and their splits).
_SPLIT_PATTERNS: tuple[tuple[float, tuple[tuple[str, str], ...]], ...] = (
    (0.20, ()),
    (0.50, ((PRESALES, "0.3"),)),
    (0.85, ((PRESALES, "0.3"), (AFTERSALES, "0.1"))),
    (0.95, ((AFTERSALES, "0.2"),)),
    (1.00, ((PRESALES, "0.25"), (AFTERSALES, "0.25"))),
)


def close_consumer_deal(floor: SalesFloor, day: int, time: str) -> dict[str, Any]:
    """A consumer-app deal: one owner, units of licences; a few cancelled or complained of later."""
    rand = floor.rand
    deal_id = _next_deal_id(floor)
    consumer = floor.staff.consumer
    owner = consumer[int(rand() * len(consumer))]
    units = min(500, 1 + int(floor.expovariate(0.07)))
    cents = units * _UNIT_PRICES_CENTS[int(rand() * 5)]
    cents = 5_000 if cents < 5_000 else min(cents, 500_000)
    if rand() < 0.15:
        customer, new_customer = floor.customers.won(), True
    else:
        customer, new_customer = floor.customers.existing_consumer(rand()), False
    event = _deal_closed(floor, time, deal_id, customer, new_customer, "consumer",
                         f"{cents // 100}.{cents % 100:02d}", units, None,
                         [{"rep_id": owner, "role": "owner", "split": "1"}])
    aftermath = rand()
    if aftermath < 0.045:
        _schedule_consumer_aftermath(floor, day, aftermath, deal_id, customer, owner)
    return event


def _next_deal_id(floor: SalesFloor) -> str:
    floor.deals += 1
    return f"D-{floor.tag}{floor.deals}"


def _deal_closed(floor: SalesFloor, time: str, deal_id: str, customer: str, new_customer: bool,
                 product_line: str, amount: str, units: int, segment: str | None,
                 credits: list[dict[str, str]]) -> dict[str, Any]:
    """Record a `deal.closed` from the CRM (a segment only when there is one)."""
    data: dict[str, Any] = {
        "deal_id": deal_id, "customer_id": customer, "product_line": product_line,
        "amount": amount, "currency": CURRENCY, "new_customer": new_customer, "units": units,
    }
    if segment is not None:
        data["segment"] = segment
    data["credits"] = credits
    return floor.record("crm", "deal.closed", time, data)


def _schedule_consumer_aftermath(
    floor: SalesFloor, day: int, draw: float, deal_id: str, customer: str, owner: str
) -> None:
    """Three in a hundred consumer deals are cancelled, one and a half draw a complaint."""
    rand = floor.rand
    if draw < 0.03:
        reason = "refund" if rand() < 0.8 else "churn"
        floor.follow_ups.schedule(day + 1 + int(rand() * 14), Cancellation(deal_id, reason))
    else:
        category = _CONSUMER_COMPLAINT_CATEGORIES[int(rand() * 4)]
        severity = "low" if rand() < 0.7 else "medium"
        complaint = DealComplaint(deal_id, customer, owner, severity, category)
        floor.follow_ups.schedule(day + 1 + int(rand() * 20), complaint)


def close_enterprise_deal(floor: SalesFloor, day: int, time: str) -> dict[str, Any]:
    """An enterprise deal, often won with the presales and aftersales reps of the owner's team."""
    rand = floor.rand
    deal_id = _next_deal_id(floor)
    owner = _enterprise_owner(floor)
    helper_credits = _helper_credits(floor, owner)
    owner_split = _owner_split(tuple(credit["split"] for credit in helper_credits))
    dollars = min(250_000, 10_000 + int(floor.expovariate(1 / 40_000)))
    dollars -= dollars % 10
    if rand() < 0.4:
        customer, new_customer = floor.customers.won_enterprise(), True
    else:
        customer, new_customer = floor.customers.any_enterprise(rand()), False
    event = _deal_closed(floor, time, deal_id, customer, new_customer, "enterprise",
                         f"{dollars}.00", 0, "large" if dollars >= 100_000 else "mid-market",
                         [{"rep_id": owner, "role": "owner", "split": owner_split},
                          *helper_credits])
    floor.enterprise_deals.append((deal_id, customer, owner))
    _schedule_enterprise_aftermath(floor, day, deal_id, customer, owner)
    return event


def _enterprise_owner(floor: SalesFloor) -> str:
    """One enterprise deal in ten is owned by a presales or aftersales rep, when there are any."""
    rand = floor.rand
    helpers = floor.staff.helpers
    if helpers and rand() < 0.1:
        return helpers[int(rand() * len(helpers))]
    enterprise = floor.staff.enterprise
    return enterprise[int(rand() * len(enterprise))]


def _helper_credits(floor: SalesFloor, owner: str) -> list[dict[str, str]]:
    """The credits of the owner's team mates who helped, as a split pattern says."""
    pick = floor.rand()
    pattern = next(pattern for limit, pattern in _SPLIT_PATTERNS if pick < limit)
    team = floor.staff.team_of[owner]
    credits = []
    for role, split in pattern:
        helper = floor.staff.helper_of[role].get(team)
        if helper is not None and helper != owner:
            credits.append({"rep_id": helper, "role": role, "split": split})
    return credits


@cache
def _owner_split(helper_splits: tuple[str, ...]) -> str:
    """The owner's share: exactly one minus the helpers' splits, as a plain decimal string."""
    share = Decimal(1) - sum((Decimal(split) for split in helper_splits), Decimal(0))
    return format(share.normalize(), "f")


def _schedule_enterprise_aftermath(
    floor: SalesFloor, day: int, deal_id: str, customer: str, owner: str
) -> None:
    """Cancelled now and then, delivered more often than not (unless cancelled first), and
    complained of once in ten."""
    rand = floor.rand
    follow_ups = floor.follow_ups
    cancel_day = floor.days
    if rand() < 0.03:
        cancel_day = day + 5 + int(rand() * 56)
        reason = "churn" if rand() < 0.6 else "refund"
        follow_ups.schedule(cancel_day, Cancellation(deal_id, reason))
    if rand() < 0.6:
        delivery_day = day + 3 + int(rand() * 28)
        if delivery_day < cancel_day:
            follow_ups.schedule(delivery_day, Delivery(deal_id))
    if rand() < 0.1:
        category = _enterprise_complaint_category(rand())
        severity = _severity(rand(), category)
        complaint = DealComplaint(deal_id, customer, owner, severity, category)
        follow_ups.schedule(day + 2 + int(rand() * 44), complaint)


def _enterprise_complaint_category(draw: float) -> str:
    if draw < 0.35:
        return "overpromised"
    if draw < 0.65:
        return "late delivery"
    if draw < 0.80:
        return "billing"
    return "support"


def _severity(draw: float, category: str) -> str:
    """Overpromising makes for graver complaints than anything else."""
    if category == "overpromised":
        high, medium = 0.45, 0.80
    else:
        high, medium = 0.10, 0.50
    if draw < high:
        return "high"
    return "medium" if draw < medium else "low"
