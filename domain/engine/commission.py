"""Commission on new business (SPEC §7 step 3): marginal tiers over revenue attainment."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from domain.engine.credit import Sale
from domain.engine.statement import Line
from domain.money import to_cents
from domain.plan import Plan

Bands = list[tuple[Decimal, Decimal | None, Decimal]]


def band_boundaries(plan: Plan, target: Decimal) -> Bands:
    """Each tier as (lower, upper, rate) in money: tier k spans (up_to_{k-1}, up_to_k] x target."""
    bands: Bands = []
    lower = Decimal(0)
    for tier in plan.commission.tiers:
        upper = tier.up_to * target if tier.up_to is not None else None
        bands.append((lower, upper, tier.rate))
        lower = upper if upper is not None else lower
    return bands


def band_floor(bands: Bands, position: Decimal) -> Decimal:
    """The lower bound of the band a sale starting at cumulative `position` begins in."""
    for lower, upper, _ in bands:
        if upper is None or position < upper:
            return lower
    return bands[-1][0]


def commission_lines(sales: Iterable[Sale], plan: Plan, target: Decimal | None) -> list[Line]:
    """Lines for each deal's overlap with each band; sales that are renewals only move the
    cumulative position. Without a target every deal earns the first tier's rate."""
    lines: list[Line] = []
    bands = band_boundaries(plan, target) if target else None
    cumulative = Decimal(0)
    for sale in sales:
        lines += sale_lines(sale, plan, bands, cumulative)
        cumulative += sale.credited
    return lines


def sale_lines(sale: Sale, plan: Plan, bands: Bands | None, start: Decimal) -> list[Line]:
    """One sale's commission lines, the rep's cumulative credited revenue before it being
    `start`: the step both a whole statement and a running total take per sale."""
    if not sale.is_deal:
        return []
    if bands is None:
        return [_line(sale, 1, plan.commission.tiers[0].rate, sale.credited)]
    end, lines = start + sale.credited, []
    for tier, (lower, upper, rate) in enumerate(bands, start=1):
        if upper is not None and upper <= start:
            continue  # a band below the sale
        overlap = min(end, upper if upper is not None else end) - max(start, lower)
        if overlap > 0:
            lines.append(_line(sale, tier, rate, overlap))
        if upper is None or end <= upper:
            break  # every band above lies above the sale
    return lines


def _line(sale: Sale, tier: int, rate: Decimal, base: Decimal) -> Line:
    fact = sale.fact  # a deal's (renewals earn no commission lines)
    return Line("commission", to_cents(base * rate), base, rate, fact.event_id, fact.source,
                fact.payload.deal_id, tier, fact.time)
