"""Renewals, delivery bonus, consumer units, cancellations and complaint clawbacks (SPEC §7 1, 4–7)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.engine import Statement, calculate
from domain.plan import Plan
from tests.builders import (
    amounts,
    cancelled,
    complaint,
    deal,
    delivered,
    recorded_at,
    renewal,
    target,
    tiers_plan,
    view_of,
)

RENEWALS = 'renewals: {rate: "0.03", count_toward_attainment: false}\n'
COUNTED_RENEWALS = 'renewals: {rate: "0.03", count_toward_attainment: true}\n'
DELIVERY = 'delivery_bonus: {rate: "0.02"}\n'
UNITS = 'units: {block: 100, amount: "50.00"}\n'
CLAWBACK = """\
clawback:
  cancellation_window_days: 180
  complaints:
    - {category: overpromised, min_severity: high, within_days: 90, rate: "0.5"}
"""
SAMPLE = RENEWALS + DELIVERY + UNITS + CLAWBACK


def plan(extra: str = SAMPLE) -> Plan:
    return tiers_plan(extra=extra)


def statement(*events: dict[str, Any], period: str = "2026-Q3", rep: str = "alice",
              extra: str = SAMPLE, known_at: datetime | None = None) -> Statement:
    return calculate(view_of(period, *events, known_at=known_at), plan(extra), rep)


# Renewals


def test_a_renewal_pays_the_credited_amount_times_the_renewal_rate() -> None:
    # 12,000 x 0.75 x 3% = 270; 12,000 x 0.25 x 3% = 90
    events = (renewal("R1", "2026-07-05", "12000.00", ("alice", "owner", "0.75"),
                      ("bob", "aftersales", "0.25")),)

    alice, bob = statement(*events), statement(*events, rep="bob")

    assert amounts(alice, "renewal") == [Decimal("270.00")]
    assert amounts(bob, "renewal") == [Decimal("90.00")]
    line = alice.lines[0]
    assert (line.event_id, line.source, line.rate, line.base) == (
        "billing-R1", "billing", Decimal("0.03"), Decimal("9000.00"))


def test_renewals_do_not_count_toward_attainment_unless_the_plan_says_so() -> None:
    # Target 100,000; renewal 50,000 on July 5th; D1 80,000 on July 10th.
    # Not counted: D1 [0, 80k]: 50,000 x 4% + 30,000 x 8% = 2,000 + 2,400; renewal 1,500.
    events = (target("rep:alice", "100000.00"), renewal("R1", "2026-07-05", "50000.00"),
              deal("D1", "2026-07-10", "80000.00"))

    result = statement(*events)

    assert amounts(result, "commission") == [Decimal("2000.00"), Decimal("2400.00")]
    assert amounts(result, "renewal") == [Decimal("1500.00")]
    assert result.credited_revenue == Decimal("80000.00")
    assert result.to_json()["attainment"]["revenue"] == "0.8000"


def test_renewals_counting_toward_attainment_move_deals_into_higher_bands() -> None:
    # Counted: the renewal fills [0, 50k] (no commission line of its own);
    # D1 [50k, 130k]: 50,000 x 8% = 4,000 and 30,000 x 12% = 3,600; renewal still 1,500.
    events = (target("rep:alice", "100000.00"), renewal("R1", "2026-07-05", "50000.00"),
              deal("D1", "2026-07-10", "80000.00"))

    result = statement(*events, extra=COUNTED_RENEWALS)

    assert [(line.tier, line.amount) for line in result.lines if line.kind == "commission"] == [
        (2, Decimal("4000.00")), (3, Decimal("3600.00"))]
    assert amounts(result, "renewal") == [Decimal("1500.00")]
    assert result.credited_revenue == Decimal("130000.00")
    assert result.to_json()["attainment"]["revenue"] == "1.3000"


def test_a_renewal_after_a_deal_moves_only_what_follows_it() -> None:
    # Counted, target 100,000: D1 [0, 40k] at 4% = 1,600; renewal [40k, 100k];
    # D2 [100k, 110k] at 12% = 1,200.
    events = (target("rep:alice", "100000.00"), deal("D1", "2026-07-03", "40000.00"),
              renewal("R1", "2026-07-05", "60000.00"), deal("D2", "2026-07-10", "10000.00"))

    result = statement(*events, extra=COUNTED_RENEWALS)

    assert amounts(result, "commission") == [Decimal("1600.00"), Decimal("1200.00")]


def test_renewals_outside_the_period_or_without_a_renewal_section_pay_nothing() -> None:
    assert amounts(statement(renewal("R1", "2026-10-01", "12000.00")), "renewal") == []
    assert amounts(statement(renewal("R1", "2026-07-05", "12000.00"), extra=""), "renewal") == []


# Delivery bonus


def test_a_delivered_deal_earns_the_delivery_bonus_on_the_credited_amount() -> None:
    # 100,000 x 0.6 x 2% = 1,200 for alice; x 0.4 x 2% = 800 for bob
    events = (deal("D4", "2026-07-20", "100000.00", ("alice", "owner", "0.6"),
                   ("bob", "presales", "0.4")),
              delivered("D4", "2026-08-20"))

    alice, bob = statement(*events), statement(*events, rep="bob")

    assert amounts(alice, "delivery_bonus") == [Decimal("1200.00")]
    assert amounts(bob, "delivery_bonus") == [Decimal("800.00")]
    line = next(line for line in alice.lines if line.kind == "delivery_bonus")
    assert (line.deal_id, line.event_id) == ("D4", "crm-D4-delivered")
    assert line.to_json()["time"] == "2026-08-20T15:00:00Z"


def test_an_older_deal_delivered_in_this_period_earns_the_bonus_here() -> None:
    # D0 closed in Q2 (50,000), delivered in Q3: 50,000 x 2% = 1,000 on the Q3 statement.
    events = (deal("D0", "2026-06-20", "50000.00"), delivered("D0", "2026-07-15"))

    q3, q2 = statement(*events), statement(*events, period="2026-Q2")

    assert amounts(q3, "delivery_bonus") == [Decimal("1000.00")]
    assert q3.credited_revenue == 0  # the deal itself belongs to Q2
    assert amounts(q2, "delivery_bonus") == []
    assert q2.credited_revenue == Decimal("50000.00")


def test_a_cancelled_deal_gets_no_delivery_bonus() -> None:
    events = (deal("D1", "2026-07-10", "80000.00"), delivered("D1", "2026-08-01"),
              cancelled("D1", "2026-09-01"))

    assert amounts(statement(*events), "delivery_bonus") == []


def test_a_delivery_in_the_next_period_is_paid_in_the_next_period() -> None:
    events = (deal("D1", "2026-07-10", "80000.00"), delivered("D1", "2026-10-02"))

    assert amounts(statement(*events), "delivery_bonus") == []
    assert amounts(statement(*events, period="2026-Q4"), "delivery_bonus") == [Decimal("1600.00")]


def test_only_enterprise_deals_earn_a_delivery_bonus() -> None:
    events = (deal("C1", "2026-07-10", "900.00", product_line="consumer", units=10),
              delivered("C1", "2026-07-11"))

    assert amounts(statement(*events), "delivery_bonus") == []


# Consumer units


def consumer(deal_id: str, day: str, units: int, *credits: tuple[str, str, str]) -> dict[str, Any]:
    return deal(deal_id, day, "990.00", *credits, product_line="consumer", units=units)


def test_units_pay_per_whole_block_summed_across_deals() -> None:
    # 60 + 70 = 130 units: floor(130 / 100) = 1 block = 50.00, booked on the deal that
    # completes the block in business time (C2), whatever order they were recorded in.
    result = statement(consumer("C2", "2026-07-11", 70), consumer("C1", "2026-07-10", 60))

    units = [line for line in result.lines if line.kind == "units"]
    assert [(line.deal_id, line.amount) for line in units] == [("C2", Decimal("50.00"))]


def test_units_blocks_floor_the_total_not_each_deal() -> None:
    # 60 + 70 + 80 = 210 units -> 2 blocks = 100.00 (per deal flooring would give 0).
    result = statement(consumer("C1", "2026-07-10", 60), consumer("C2", "2026-07-11", 70),
                       consumer("C3", "2026-07-12", 80))

    assert sum(amounts(result, "units")) == Decimal("100.00")


def test_units_are_credited_by_split() -> None:
    # 300 units split 0.5 / 0.5: 150 each -> 1 block each; alice's own 50 more -> 200 -> 2 blocks.
    events = (consumer("C1", "2026-07-10", 300, ("alice", "owner", "0.5"), ("bob", "partner", "0.5")),
              consumer("C2", "2026-07-11", 50))

    assert sum(amounts(statement(*events), "units")) == Decimal("100.00")
    assert sum(amounts(statement(*events, rep="bob"), "units")) == Decimal("50.00")


def test_units_of_a_cancelled_consumer_deal_do_not_count() -> None:
    events = (consumer("C1", "2026-07-10", 60), consumer("C2", "2026-07-11", 70),
              cancelled("C2", "2026-07-20"))

    assert amounts(statement(*events), "units") == []


def test_units_without_a_units_section_pay_nothing() -> None:
    assert amounts(statement(consumer("C1", "2026-07-10", 500), extra=""), "units") == []


# Cancellations


def test_a_deal_cancelled_within_the_window_leaves_credited_revenue() -> None:
    # Target 100,000: without D1, D2 (60,000) sits in [0, 60k]: 50,000 x 4% + 10,000 x 8% = 2,800
    events = (target("rep:alice", "100000.00"), deal("D1", "2026-07-10", "80000.00"),
              deal("D2", "2026-08-05", "60000.00"), cancelled("D1", "2026-08-01"))

    result = statement(*events)

    assert result.credited_revenue == Decimal("60000.00")
    assert [line.deal_id for line in result.lines] == ["D2", "D2"]
    assert result.total == Decimal("2800.00")


@pytest.mark.parametrize(("cancelled_on", "counts"), [
    ("2027-01-06", False),  # 21 + 31 + 30 + 31 + 30 + 31 + 6 = 180 days after July 10th: inside
    ("2027-01-07", True),   # 181 days: outside the window, the deal keeps counting
])
def test_the_cancellation_window_is_counted_in_days_from_closing(cancelled_on: str, counts: bool) -> None:
    events = (deal("D1", "2026-07-10", "80000.00"), cancelled("D1", cancelled_on))

    result = statement(*events)

    assert (result.credited_revenue == Decimal("80000.00")) is counts
    assert bool(amounts(result, "commission")) is counts


def test_a_cancellation_not_yet_known_at_the_query_time_changes_nothing() -> None:
    events = (deal("D1", "2026-07-10", "80000.00"), cancelled("D1", "2026-08-01"))

    before = statement(*events, known_at=recorded_at(1))
    after = statement(*events, known_at=recorded_at(2))

    assert before.credited_revenue == Decimal("80000.00")
    assert after.credited_revenue == 0


def test_without_a_cancellation_window_any_cancellation_removes_the_deal() -> None:
    events = (deal("D1", "2026-07-10", "80000.00"), cancelled("D1", "2028-01-01"))

    assert statement(*events, extra="").credited_revenue == 0


# Complaint clawbacks


def test_a_matching_complaint_claws_back_half_of_the_deals_commission() -> None:
    # SPEC §9 time-weighted: D2 earned 300 + 4,200 = 4,500; 50% clawback = -2,250.
    events = (target("rep:alice", "200000.00", "2026-07-01"),
              target("rep:alice", "150000.00", "2026-08-16"),
              deal("D1", "2026-07-10", "80000.00"), deal("D2", "2026-08-05", "60000.00"),
              deal("D3", "2026-09-20", "70000.00"),
              complaint("K1", "2026-09-01", deal_id="D2"))

    result = statement(*events)

    clawback = next(line for line in result.lines if line.kind == "clawback")
    assert clawback.amount == Decimal("-2250.00")
    assert (clawback.deal_id, clawback.event_id, clawback.base, clawback.rate) == (
        "D2", "support-K1", Decimal("4500.00"), Decimal("0.5"))
    assert result.total == Decimal("14700.00") - Decimal("2250.00")


@pytest.mark.parametrize(("change", "clawed"), [
    ({}, True),
    ({"category": "rude"}, False),               # another category
    ({"severity": "medium"}, False),             # below min_severity high
    ({"day": "2026-10-08"}, True),               # 90 days after July 10th: within
    ({"day": "2026-10-09"}, False),              # 91 days: too late
    ({"rep_id": "bob"}, False),                  # against another rep
    ({"deal_id": None}, False),                  # not linked to a deal
])
def test_a_complaint_claws_back_only_when_rep_category_severity_and_timing_match(
        change: dict[str, Any], clawed: bool) -> None:
    # D1 80,000 without a target: 3,200 commission; a clawback would be -1,600.
    details: dict[str, Any] = {"day": "2026-08-01", "rep_id": "alice", "deal_id": "D1",
                               "severity": "high", "category": "overpromised"} | change
    events = (deal("D1", "2026-07-10", "80000.00"), complaint("K1", **details))

    result = statement(*events, period="2026-Q3")

    assert amounts(result, "clawback") == ([Decimal("-1600.00")] if clawed else [])


def test_a_clawback_is_booked_in_the_deals_period_even_when_the_complaint_comes_later() -> None:
    # D3 closed September 20th, complaint October 15th (25 days): on the Q3 statement.
    events = (deal("D3", "2026-09-20", "70000.00"), complaint("K1", "2026-10-15", deal_id="D3"))

    q3, q4 = statement(*events), statement(*events, period="2026-Q4")

    assert amounts(q3, "clawback") == [Decimal("-1400.00")]  # 70,000 x 4% x 50%
    assert amounts(q4, "clawback") == []


def test_a_clawback_never_takes_more_than_the_commission_on_the_deal() -> None:
    # Rate 75%: the first complaint takes 2,400 of 3,200; the second only the 800 left.
    extra = """\
clawback:
  complaints:
    - {category: overpromised, min_severity: low, within_days: 90, rate: "0.75"}
"""
    events = (deal("D1", "2026-07-10", "80000.00"), complaint("K1", "2026-08-01", deal_id="D1"),
              complaint("K2", "2026-08-02", deal_id="D1"), complaint("K3", "2026-08-03", deal_id="D1"))

    result = statement(*events, extra=extra)

    assert amounts(result, "clawback") == [Decimal("-2400.00"), Decimal("-800.00")]
    assert result.total == 0


def test_a_complaint_against_a_presales_rep_claws_back_their_own_commission_only() -> None:
    # bob is credited 30,000 of D4 with no target: 1,200 commission, 50% = -600; alice keeps hers.
    events = (deal("D4", "2026-07-20", "100000.00", ("alice", "owner", "0.7"),
                   ("bob", "presales", "0.3")),
              complaint("K1", "2026-08-01", rep_id="bob", deal_id="D4"))

    assert amounts(statement(*events, rep="bob"), "clawback") == [Decimal("-600.00")]
    assert amounts(statement(*events), "clawback") == []


def test_a_cancelled_deal_has_no_commission_to_claw_back() -> None:
    events = (deal("D1", "2026-07-10", "80000.00"), cancelled("D1", "2026-07-20"),
              complaint("K1", "2026-08-01", deal_id="D1"))

    result = statement(*events)

    assert result.lines == ()
