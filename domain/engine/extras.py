"""Renewals, delivery bonus, consumer units, complaint clawbacks (SPEC §7 steps 4–7) and
adjustments of earlier periods (SPEC §8)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import cast

from domain.engine.credit import CreditBook
from domain.engine.statement import Line
from domain.facts import SEVERITY_RANK, ComplaintLogged, DealClosed
from domain.money import floor_int, to_cents
from domain.plan import ComplaintRule


def renewal_lines(book: CreditBook, rep_id: str) -> list[Line]:
    """Credited renewal amount x the plan's renewal rate."""
    if book.plan.renewals is None:
        return []
    rate = book.plan.renewals.rate
    return [Line("renewal", to_cents(sale.credited * rate), sale.credited, rate,
                 sale.fact.event_id, sale.fact.source, getattr(sale.fact.payload, "deal_id", None),
                 None, sale.fact.time)
            for sale in book.credited_renewals(rep_id)]


def delivery_lines(book: CreditBook, rep_id: str) -> list[Line]:
    """For each enterprise deal delivered in the period and not cancelled: credited x rate."""
    if book.plan.delivery_bonus is None:
        return []
    rate, lines, paid = book.plan.delivery_bonus.rate, [], set()
    for delivery, deal in book.deliveries_of(rep_id):
        if (deal.payload.deal_id in paid or deal.payload.product_line != "enterprise"
                or book.cancellation_of(deal)):
            continue
        credited = deal.payload.amount * deal.payload.split_of(rep_id)
        if credited:
            paid.add(deal.payload.deal_id)
            lines.append(Line("delivery_bonus", delivery_bonus(credited, rate), credited, rate,
                              delivery.event_id, delivery.source, deal.payload.deal_id, None,
                              delivery.time))
    return lines


def delivery_bonus(credited: Decimal, rate: Decimal) -> Decimal:
    """The delivery bonus on a rep's credited share of a delivered enterprise deal."""
    return to_cents(credited * rate)


def unit_lines(book: CreditBook, rep_id: str) -> list[Line]:
    """floor(sum of units x split / block) x amount, booked deal by deal as each completes blocks."""
    if book.plan.units is None:
        return []
    block, amount = book.plan.units.block, book.plan.units.amount
    lines, cumulative = [], Decimal(0)
    for sale in book.counted_deals(rep_id):
        deal = cast(DealClosed, sale.fact.payload)  # counted deals are deals
        if not deal.units:
            continue
        units = Decimal(deal.units) * deal.split_of(rep_id)
        blocks = unit_blocks(cumulative, units, block)
        cumulative += units
        if blocks:
            lines.append(Line("units", to_cents(blocks * amount), units, amount,
                              sale.fact.event_id, sale.fact.source, deal.deal_id, None,
                              sale.fact.time))
    return lines


def unit_blocks(cumulative: Decimal, units: Decimal, block: int) -> int:
    """Blocks a sale of `units` completes when `cumulative` units were sold before it."""
    return floor_int((cumulative + units) / block) - floor_int(cumulative / block)


def clawback_lines(book: CreditBook, rep_id: str, commission: list[Line]) -> list[Line]:
    """A matching complaint claws back rate x the rep's commission on the deal, in the deal's
    period; a deal never loses more than the commission it earned."""
    rules = book.plan.clawback.complaints if book.plan.clawback else ()
    earned: dict[str, Decimal] = defaultdict(Decimal)
    for line in commission:
        earned[line.deal_id or ""] += line.amount
    lines: list[Line] = []
    for complaint in book.complaints_against.get(rep_id, []):
        c = complaint.payload
        deal = book.deal_by_id.get(c.deal_id or "")
        if deal is None or earned.get(deal.payload.deal_id, 0) <= 0:
            continue
        rule = clawback_rule(rules, c, (complaint.day - deal.day).days)
        if rule is None:
            continue
        base = sum((line.amount for line in commission if line.deal_id == deal.payload.deal_id),
                   Decimal(0))
        amount = min(to_cents(base * rule.rate), earned[deal.payload.deal_id])
        earned[deal.payload.deal_id] -= amount
        lines.append(Line("clawback", -amount, base, rule.rate, complaint.event_id,
                          complaint.source, deal.payload.deal_id, None, complaint.time))
    return lines


def adjustment_lines(book: CreditBook, rep_id: str) -> list[Line]:
    """Corrections of earlier periods (restatement deltas, accepted disputes) booked here."""
    return [Line("adjustment", to_cents(a.payload.amount), a.payload.amount, Decimal(1),
                 a.event_id, a.source, None, None, None, a.payload.reference)
            for a in book.adjustments_of(rep_id)]


def clawback_rule(rules: Sequence[ComplaintRule], complaint: ComplaintLogged,
                  age_days: int) -> ComplaintRule | None:
    """The plan's first clawback rule a complaint logged `age_days` after its deal matches."""
    return next((r for r in rules if r.category == complaint.category
                 and 0 <= age_days <= r.within_days
                 and SEVERITY_RANK[complaint.severity] >= SEVERITY_RANK[r.min_severity]), None)
