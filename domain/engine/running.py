"""Running totals of a rep-period: the few sums a statement's published figures (credited
revenue, attainment, score, commission to date) are made of, kept so that a sale later in business
time than every sale counted so far, or a coaching session, updates them in O(1) with the same
steps a whole statement takes (`sale_lines`, `unit_blocks`, the scorecard and closing rules).
Anything else (a late fact, a cancellation, delivery or complaint, a target, roster or plan
change) needs the whole statement recomputed, which gives the totals afresh."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.engine.calculate import achieved_of, cap_amount, target_values
from domain.engine.commission import band_boundaries, sale_lines
from domain.engine.credit import CreditBook, Sale
from domain.engine.extras import unit_blocks
from domain.engine.scorecard import (
    achieved,
    attainment_of,
    complaint_weight,
    measured_of,
    score,
    scorecard_bonus_amount,
)
from domain.engine.statement import Statement
from domain.engine.team import book_team_target, team_bonus_amount
from domain.facts import DealClosed
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
    """What a rep-period's figures are made of, as of the latest sale counted (`last`)."""

    plan_sha256: str
    targets: dict[str, Decimal]
    team_id: str | None
    team_target: Decimal | None
    team_size: int
    credited: Decimal
    last: tuple[datetime, str] | None
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
            "last": [self.last[0].isoformat(), self.last[1]] if self.last else None,
            "units": str(self.units), "new_customers": self.new_customers,
            "renewals": str(self.renewals), "coaching": str(self.coaching),
            "complaints": str(self.complaints), "lines": str(self.lines),
            "adjustments": str(self.adjustments),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunningTotals:
        """The totals from their stored form."""
        last = data["last"]
        team_target = data["team_target"]
        return cls(
            plan_sha256=data["plan_sha256"],
            targets={metric: Decimal(value) for metric, value in data["targets"].items()},
            team_id=data["team_id"],
            team_target=Decimal(team_target) if team_target is not None else None,
            team_size=data["team_size"], credited=Decimal(data["credited"]),
            last=(datetime.fromisoformat(last[0]), last[1]) if last else None,
            units=Decimal(data["units"]), new_customers=data["new_customers"],
            renewals=Decimal(data["renewals"]), coaching=Decimal(data["coaching"]),
            complaints=Decimal(data["complaints"]), lines=Decimal(data["lines"]),
            adjustments=Decimal(data["adjustments"]),
        )


def running_totals(book: CreditBook, statement: Statement) -> RunningTotals:
    """The totals behind a statement the engine computed from `book`."""
    rep_id, plan = statement.rep_id, book.plan
    team_id = statement.team_id
    team_target = book_team_target(book, team_id) if plan.team_bonus and team_id else None
    counted = book.counted_deals(rep_id)
    ordered = [sale.fact.order for sale in (*counted, *book.attainment_sales(rep_id))]
    figures = achieved_of(book, rep_id, statement.credited_revenue)
    return RunningTotals(
        plan_sha256=plan.sha256,
        targets=target_values(statement.effective_targets),
        team_id=team_id,
        team_target=team_target.value if team_target is not None else None,
        team_size=len(book.view.members.get(team_id, [])) if team_id else 0,
        credited=statement.credited_revenue,
        last=max(ordered) if ordered else None,
        units=sum((Decimal(getattr(s.fact.payload, "units", 0)) * s.fact.payload.split_of(rep_id)
                   for s in counted), ZERO),
        new_customers=int(figures["new_customers"]),
        renewals=figures["renewals"],
        coaching=figures["coaching_minutes"],
        complaints=complaint_weight(book, rep_id),
        lines=sum((ln.amount for ln in statement.lines if ln.kind in SUMMED_KINDS), ZERO),
        adjustments=sum((ln.amount for ln in statement.lines if ln.kind == "adjustment"), ZERO),
    )


def after_sale(totals: RunningTotals, plan: Plan, rep_id: str, sale: Sale) -> RunningTotals | None:
    """The totals once `sale` (a deal, or a renewal, crediting the rep in the period, not
    cancelled) is counted; None when it must not be applied as a step: it is earlier in business
    time than a sale already counted, so the lines after it move (recompute the statement)."""
    payload = sale.fact.payload
    moves = sale.is_deal or bool(plan.renewals and plan.renewals.count_toward_attainment)
    if moves and totals.last is not None and sale.fact.order <= totals.last:
        return None
    lines, units, new_customers, renewals = (totals.lines, totals.units, totals.new_customers,
                                             totals.renewals)
    if isinstance(payload, DealClosed):
        revenue = totals.targets.get("revenue")
        bands = band_boundaries(plan, revenue) if revenue is not None and revenue > 0 else None
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
    return replace(totals, credited=totals.credited + sale.credited if moves else totals.credited,
                   last=sale.fact.order if moves else totals.last, units=units,
                   new_customers=new_customers, renewals=renewals, lines=lines)


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
