"""Running totals of a rep-period: the few sums a statement's published figures (credited
revenue, attainment, score, commission to date) are made of, kept so that these facts update them
in O(1) with the same steps a whole statement takes (`sale_lines`, `unit_blocks`,
`delivery_bonus`, `clawback_rule`, `rep_targets`, `team_target`, the scorecard and closing rules):
a sale later in business time than every sale counted so far, or earlier but within the
commission band the latest sales are in; a coaching session; a delivery; a complaint no clawback
rule matches; a target decision that leaves the rep's revenue target as it was. Anything else (a
late sale that reaches across a band, a cancellation, a complaint that claws back, a revised
revenue target, a roster or plan change) needs the whole statement recomputed, which gives the
totals afresh."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.engine.calculate import (
    achieved_of,
    book_statement,
    cap_amount,
    rep_targets,
    target_values,
)
from domain.engine.commission import Bands, band_boundaries, band_floor, sale_lines
from domain.engine.credit import CreditBook, Sale
from domain.engine.extras import clawback_rule, delivery_bonus, unit_blocks
from domain.engine.scorecard import (
    COMPLAINT_WEIGHT,
    achieved,
    attainment_of,
    complaint_weight,
    measured_of,
    score,
    scorecard_bonus_amount,
)
from domain.engine.statement import Statement
from domain.engine.team import book_team_target, team_bonus_amount, team_target
from domain.engine.view import LedgerView, Recorded
from domain.facts import ComplaintLogged, DealClosed
from domain.money import to_cents
from domain.plan import Plan

ZERO = Decimal(0)
# The line kinds a running total carries as one sum; team, scorecard and cap lines are derived.
SUMMED_KINDS = frozenset({"commission", "renewal", "delivery_bonus", "units", "clawback"})


@dataclass(frozen=True)
class Standing:
    """A rep-period's published figures."""

    credited_revenue: Decimal
    effective_targets: dict[str, Decimal]
    attainment: dict[str, Decimal]
    score: Decimal | None
    commission_to_date: Decimal


@dataclass(frozen=True)
class RunningTotals:
    """What a rep-period's figures are made of, as of the latest sale counted (`last`).
    `band_since` is the last sale that started below the commission band the next sale starts
    in (None while in the first band): every sale after it lies within that band."""

    plan_sha256: str
    targets: dict[str, Decimal]
    team_id: str | None
    team_target: Decimal | None
    team_size: int
    credited: Decimal
    last: tuple[datetime, str] | None
    band_since: tuple[datetime, str] | None
    units: Decimal
    new_customers: int
    renewals: Decimal
    coaching: Decimal
    complaints: Decimal
    lines: Decimal
    adjustments: Decimal

    def to_json(self) -> dict[str, Any]:
        """The stored form: decimals as text, the order as [ISO time, event id]."""
        return {
            "plan_sha256": self.plan_sha256,
            "targets": {metric: str(value) for metric, value in self.targets.items()},
            "team_id": self.team_id,
            "team_target": str(self.team_target) if self.team_target is not None else None,
            "team_size": self.team_size, "credited": str(self.credited),
            "last": _order_json(self.last), "band_since": _order_json(self.band_since),
            "units": str(self.units), "new_customers": self.new_customers,
            "renewals": str(self.renewals), "coaching": str(self.coaching),
            "complaints": str(self.complaints), "lines": str(self.lines),
            "adjustments": str(self.adjustments),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunningTotals:
        """The totals from their stored form."""
        team_target = data["team_target"]
        return cls(
            plan_sha256=data["plan_sha256"],
            targets={metric: Decimal(value) for metric, value in data["targets"].items()},
            team_id=data["team_id"],
            team_target=Decimal(team_target) if team_target is not None else None,
            team_size=data["team_size"], credited=Decimal(data["credited"]),
            last=_order(data["last"]), band_since=_order(data["band_since"]),
            units=Decimal(data["units"]), new_customers=data["new_customers"],
            renewals=Decimal(data["renewals"]), coaching=Decimal(data["coaching"]),
            complaints=Decimal(data["complaints"]), lines=Decimal(data["lines"]),
            adjustments=Decimal(data["adjustments"]),
        )


def _order_json(order: tuple[datetime, str] | None) -> list[str] | None:
    return [order[0].isoformat(), order[1]] if order else None


def _order(stored: list[str] | None) -> tuple[datetime, str] | None:
    return (datetime.fromisoformat(stored[0]), stored[1]) if stored else None


def running_totals(book: CreditBook, statement: Statement) -> RunningTotals:
    """The totals behind a statement the engine computed from `book`."""
    rep_id, plan = statement.rep_id, book.plan
    team_id = statement.team_id
    team_target = book_team_target(book, team_id) if plan.team_bonus and team_id else None
    counted, sales = book.counted_deals(rep_id), book.attainment_sales(rep_id)
    ordered = [sale.fact.order for sale in (*counted, *sales)]
    figures = achieved_of(book, rep_id, statement.credited_revenue)
    return RunningTotals(
        plan_sha256=plan.sha256,
        targets=target_values(statement.effective_targets),
        team_id=team_id,
        team_target=team_target.value if team_target is not None else None,
        team_size=len(book.view.members.get(team_id, [])) if team_id else 0,
        credited=statement.credited_revenue,
        last=max(ordered) if ordered else None,
        band_since=_band_since(sales, _bands(plan, target_values(statement.effective_targets))),
        units=sum((Decimal(getattr(s.fact.payload, "units", 0)) * s.fact.payload.split_of(rep_id)
                   for s in counted), ZERO),
        new_customers=int(figures["new_customers"]),
        renewals=figures["renewals"],
        coaching=figures["coaching_minutes"],
        complaints=complaint_weight(book, rep_id),
        lines=sum((ln.amount for ln in statement.lines if ln.kind in SUMMED_KINDS), ZERO),
        adjustments=sum((ln.amount for ln in statement.lines if ln.kind == "adjustment"), ZERO),
    )


def _bands(plan: Plan, targets: dict[str, Decimal]) -> Bands | None:
    revenue = targets.get("revenue")
    return band_boundaries(plan, revenue) if revenue is not None and revenue > 0 else None


def _band_since(sales: list[Sale], bands: Bands | None) -> tuple[datetime, str] | None:
    """The last of the sales (in order) that started below the band the next sale starts in."""
    if bands is None:
        return None
    floor = band_floor(bands, sum((sale.credited for sale in sales), ZERO))
    since, start = None, ZERO
    for sale in sales:
        if start < floor:
            since = sale.fact.order
        start += sale.credited
    return since


def after_sale(totals: RunningTotals, plan: Plan, rep_id: str, sale: Sale) -> RunningTotals | None:
    """The totals once `sale` (a deal, or a renewal, crediting the rep in the period, not
    cancelled) is counted. A sale earlier in business time than one already counted is a step
    only when it falls after `band_since` and the revenue after it stays in the same band: then
    it and every sale after it earn that band's rate wherever they fall, so no other line moves.
    Otherwise None: the lines after it move (recompute the statement)."""
    payload = sale.fact.payload
    moves = sale.is_deal or bool(plan.renewals and plan.renewals.count_toward_attainment)
    bands = _bands(plan, totals.targets)
    credited = totals.credited + sale.credited if moves else totals.credited
    late = moves and totals.last is not None and sale.fact.order <= totals.last
    if late and not _within_band(totals, plan, bands, sale, credited):
        return None
    lines, units, new_customers, renewals = (totals.lines, totals.units, totals.new_customers,
                                             totals.renewals)
    if isinstance(payload, DealClosed):
        lines += sum((ln.amount for ln in sale_lines(sale, plan, bands, totals.credited)), ZERO)
        sold = Decimal(payload.units) * payload.split_of(rep_id)
        if plan.units is not None and payload.units:
            blocks = unit_blocks(units, sold, plan.units.block)
            lines += to_cents(blocks * plan.units.amount) if blocks else ZERO
        units += sold
        new_customers += 1 if payload.new_customer and payload.owner == rep_id else 0
    else:
        renewals += sale.credited
        if plan.renewals is not None:
            lines += to_cents(sale.credited * plan.renewals.rate)
    band_since = totals.band_since
    if moves and bands is not None and totals.credited < band_floor(bands, credited):
        band_since = sale.fact.order
    return replace(totals, credited=credited,
                   last=sale.fact.order if moves and not late else totals.last,
                   band_since=band_since, units=units, new_customers=new_customers,
                   renewals=renewals, lines=lines)


def _within_band(totals: RunningTotals, plan: Plan, bands: Bands | None, sale: Sale,
                 credited: Decimal) -> bool:
    """True when a sale counted out of order (arriving late, or taken out by a cancellation),
    and every sale after it, stays in the band the sales after `band_since` are in, the revenue
    becoming `credited`; and its units' blocks pay the same in any order (whole cents)."""
    if totals.band_since is not None and sale.fact.order <= totals.band_since:
        return False
    if bands is not None and band_floor(bands, credited) != band_floor(bands, totals.credited):
        return False
    units = getattr(sale.fact.payload, "units", 0)
    return plan.units is None or not units or to_cents(plan.units.amount) == plan.units.amount


def after_delivery(totals: RunningTotals, plan: Plan, rep_id: str, deal: DealClosed, *,
                   cancelled: bool) -> RunningTotals:
    """The totals once a deal crediting the rep is delivered in the period: an enterprise deal
    not `cancelled` (within the plan's window) pays its delivery bonus on the rep's share."""
    if plan.delivery_bonus is None or cancelled or deal.product_line != "enterprise":
        return totals
    credited = deal.amount * deal.split_of(rep_id)
    if not credited:
        return totals
    return replace(totals, lines=totals.lines + delivery_bonus(credited, plan.delivery_bonus.rate))


def after_cancellation(totals: RunningTotals, plan: Plan, rep_id: str,
                       deal: Recorded[DealClosed], *, closed_here: bool, delivered_here: bool,
                       complained: bool) -> RunningTotals | None:
    """The totals once a deal crediting the rep is cancelled within the plan's window. Where it
    was `delivered_here`, its delivery bonus comes off. Where it `closed_here`, its credit,
    commission, units and new customer come off: a step only when it falls after `band_since`
    and before the latest sale counted, the revenue left stays in the same band (so no other
    sale's line moves), its units' blocks pay in whole cents, and no complaint names it (a
    clawback on it would go too); otherwise None (recompute the statement)."""
    payload, lines = deal.payload, totals.lines
    if delivered_here and plan.delivery_bonus is not None and payload.product_line == "enterprise":
        lines -= delivery_bonus(payload.amount * payload.split_of(rep_id), plan.delivery_bonus.rate)
    if not closed_here:
        return replace(totals, lines=lines)
    if complained or totals.last is None or deal.order >= totals.last:
        return None
    sale = Sale(deal, payload.amount * payload.split_of(rep_id))
    credited, bands = totals.credited - sale.credited, _bands(plan, totals.targets)
    if not _within_band(totals, plan, bands, sale, credited):
        return None
    lines -= sum((ln.amount for ln in sale_lines(sale, plan, bands, credited)), ZERO)
    sold = Decimal(payload.units) * payload.split_of(rep_id)
    if plan.units is not None and payload.units:
        lines -= to_cents(unit_blocks(totals.units - sold, sold, plan.units.block)
                          * plan.units.amount)
    new_customer = 1 if payload.new_customer and payload.owner == rep_id else 0
    return replace(totals, credited=credited, units=totals.units - sold,
                   new_customers=totals.new_customers - new_customer, lines=lines)


def after_complaint(totals: RunningTotals, plan: Plan, complaint: ComplaintLogged, *,
                    logged_here: bool, deal_age_days: int | None) -> RunningTotals | None:
    """The totals once a complaint against the rep is logged: its weight counts where it is
    `logged_here` (in the period). `deal_age_days` is given when the complained-of deal closed in
    the period: a clawback rule matching it takes back part of the deal's commission lines,
    which a step does not hold, so then None (recompute the statement)."""
    rules = plan.clawback.complaints if plan.clawback else ()
    if deal_age_days is not None and clawback_rule(rules, complaint, deal_age_days) is not None:
        return None
    if not logged_here:
        return totals
    return replace(totals, complaints=totals.complaints + COMPLAINT_WEIGHT[complaint.severity])


def after_targets(totals: RunningTotals, plan: Plan, decisions: LedgerView,
                  rep_id: str) -> RunningTotals | None:
    """The totals once a target decision moved the rep's targets or its team's revenue target,
    read again from the `decisions` (the period's targets and roster); None when the rep's own
    revenue target moved, which re-tiers its commission lines (recompute the statement)."""
    targets = target_values(rep_targets(decisions, plan, rep_id))
    if targets.get("revenue") != totals.targets.get("revenue"):
        return None
    team = (team_target(decisions, totals.team_id, "revenue", plan.target_proration)
            if plan.team_bonus and totals.team_id else None)
    return replace(totals, targets=targets, team_target=team.value if team is not None else None)


def after_coaching(totals: RunningTotals, minutes: int) -> RunningTotals:
    """The totals once the rep attended `minutes` more of coaching in the period."""
    return replace(totals, coaching=totals.coaching + minutes)


def standing(totals: RunningTotals, plan: Plan, team_revenue: Decimal) -> Standing:
    """The published figures from the totals; `team_revenue` is the credited revenue of the
    rep's whole team (only read when the plan has a team bonus)."""
    attainment = attainment_of(achieved(totals.credited, Decimal(totals.new_customers),
                                        totals.renewals, totals.coaching), totals.targets)
    card = score(plan, measured_of(attainment, totals.complaints,
                                   totals.targets.get("complaint_allowance")))
    subtotal = totals.lines
    if totals.team_id is not None:
        subtotal += team_bonus_amount(plan, team_revenue, totals.team_target,
                                      totals.credited) or ZERO
    subtotal += scorecard_bonus_amount(plan, card) or ZERO
    subtotal += cap_amount(plan, subtotal) or ZERO
    return Standing(totals.credited, dict(totals.targets), attainment, card.score,
                    subtotal + totals.adjustments)


def standing_of(statement: Statement) -> Standing:
    """The published figures of a whole statement."""
    return Standing(statement.credited_revenue, target_values(statement.effective_targets),
                    dict(statement.attainment), statement.scorecard.score, statement.total)


def calculate_with_totals(view: LedgerView, plan: Plan, rep_ids: Iterable[str]
                          ) -> list[tuple[Statement, RunningTotals]]:
    """`calculate_many`, each statement with its running totals."""
    book = CreditBook(view, plan)
    return [(statement, running_totals(book, statement))
            for statement in (book_statement(book, rep_id) for rep_id in rep_ids)]
