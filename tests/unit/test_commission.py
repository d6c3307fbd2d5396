"""Commission on new business (SPEC §7 steps 1-3 and the §9 worked examples)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.engine import NO_REVENUE_TARGET, Statement, calculate
from domain.plan import Plan
from tests.builders import amounts, deal, recorded_at, target, tiers_plan, view_of

# SPEC §9: alice, 2026-Q3, target 200,000 revised to 150,000 from August 16th; three deals.
TARGETS = (target("rep:alice", "200000.00", "2026-07-01", event_id="t-200k"),
           target("rep:alice", "150000.00", "2026-08-16", event_id="t-150k"))
DEALS = (deal("D1", "2026-07-10", "80000.00"), deal("D2", "2026-08-05", "60000.00"),
         deal("D3", "2026-09-20", "70000.00"))


def statement(*events: dict[str, Any], plan: Plan | None = None, rep: str = "alice",
              known_at: datetime | None = None) -> Statement:
    return calculate(view_of("2026-Q3", *events, known_at=known_at), plan or tiers_plan(), rep)


def commission(result: Statement) -> list[tuple[str | None, int | None, Decimal]]:
    """(deal, tier, amount) of each commission line, in statement order."""
    return [(line.deal_id, line.tier, line.amount) for line in result.lines if line.kind == "commission"]


def test_spec_example_time_weighted() -> None:
    # Target 175,000: bands 0-87,500 at 4%, 87,500-175,000 at 8%, above at 12%.
    # D1 [0, 80k]: 80,000 x 4% = 3,200
    # D2 [80k, 140k]: 7,500 x 4% = 300; 52,500 x 8% = 4,200
    # D3 [140k, 210k]: 35,000 x 8% = 2,800; 35,000 x 12% = 4,200
    result = statement(*TARGETS, *DEALS)

    assert result.effective_targets["revenue"].value == Decimal("175000.00")
    assert commission(result) == [
        ("D1", 1, Decimal("3200.00")),
        ("D2", 1, Decimal("300.00")), ("D2", 2, Decimal("4200.00")),
        ("D3", 2, Decimal("2800.00")), ("D3", 3, Decimal("4200.00")),
    ]
    assert result.total == Decimal("14700.00")
    assert result.credited_revenue == Decimal("210000.00")
    assert result.to_json()["attainment"]["revenue"] == "1.2000"  # 210,000 / 175,000


def test_spec_example_replace() -> None:
    # Target 150,000: bands 0-75,000 at 4%, 75,000-150,000 at 8%, above at 12%.
    # D1 [0, 80k]: 75,000 x 4% = 3,000; 5,000 x 8% = 400
    # D2 [80k, 140k]: 60,000 x 8% = 4,800
    # D3 [140k, 210k]: 10,000 x 8% = 800; 60,000 x 12% = 7,200
    result = statement(*TARGETS, *DEALS, plan=tiers_plan("replace"))

    assert result.effective_targets["revenue"].value == Decimal("150000.00")
    assert commission(result) == [
        ("D1", 1, Decimal("3000.00")), ("D1", 2, Decimal("400.00")),
        ("D2", 2, Decimal("4800.00")),
        ("D3", 2, Decimal("800.00")), ("D3", 3, Decimal("7200.00")),
    ]
    assert result.total == Decimal("16200.00")
    assert result.to_json()["attainment"]["revenue"] == "1.4000"  # 210,000 / 150,000


def test_spec_example_as_known_before_the_revision() -> None:
    # Only the 200,000 decision was known: bands 0-100,000 at 4%, 100,000-200,000 at 8%.
    # D1 [0, 80k]: 3,200. D2 [80k, 140k]: 20,000 x 4% = 800; 40,000 x 8% = 3,200
    # D3 [140k, 210k]: 60,000 x 8% = 4,800; 10,000 x 12% = 1,200
    events = (TARGETS[0], *DEALS, TARGETS[1])  # the revision is recorded last

    result = statement(*events, known_at=recorded_at(len(events) - 1))

    assert result.effective_targets["revenue"].value == Decimal("200000.00")
    assert commission(result) == [
        ("D1", 1, Decimal("3200.00")),
        ("D2", 1, Decimal("800.00")), ("D2", 2, Decimal("3200.00")),
        ("D3", 2, Decimal("4800.00")), ("D3", 3, Decimal("1200.00")),
    ]
    assert result.total == Decimal("13200.00")
    assert result.to_json()["attainment"]["revenue"] == "1.0500"


def test_each_commission_line_names_its_deal_event_tier_rate_and_base() -> None:
    result = statement(*TARGETS, *DEALS)
    d2_upper = next(line for line in result.lines if line.deal_id == "D2" and line.tier == 2)

    assert d2_upper.kind == "commission"
    assert (d2_upper.source, d2_upper.event_id) == ("crm", "crm-D2")
    assert d2_upper.rate == Decimal("0.08")
    assert d2_upper.base == Decimal("52500")  # 140,000 - 87,500
    assert d2_upper.to_json()["time"] == "2026-08-05T12:00:00Z"


def test_lines_follow_business_time_not_recording_order() -> None:
    in_time_order = statement(*TARGETS, *DEALS)
    recorded_backwards = statement(*TARGETS, *reversed(DEALS))

    assert commission(recorded_backwards) == commission(in_time_order)


def test_deals_at_the_same_moment_are_taken_in_event_id_order() -> None:
    # Target 100,000: crm-A fills [0, 50k] at 4% = 2,000; crm-B [50k, 100k] at 8% = 4,000
    same_time = (deal("B", "2026-07-10", "50000.00"), deal("A", "2026-07-10", "50000.00"))

    result = statement(target("rep:alice", "100000.00"), *same_time)

    assert commission(result) == [("A", 1, Decimal("2000.00")), ("B", 2, Decimal("4000.00"))]


def test_a_deal_straddling_three_bands_gets_a_line_in_each() -> None:
    # Target 100,000, one deal of 150,000: 50,000 x 4% + 50,000 x 8% + 50,000 x 12%
    result = statement(target("rep:alice", "100000.00"), deal("D1", "2026-07-10", "150000.00"))

    assert commission(result) == [("D1", 1, Decimal("2000.00")), ("D1", 2, Decimal("4000.00")),
                                  ("D1", 3, Decimal("6000.00"))]
    assert [line.base for line in result.lines] == [50000, 50000, 50000]
    assert result.total == Decimal("12000.00")


def test_a_deal_ending_exactly_on_a_boundary_gets_no_empty_line() -> None:
    # Target 100,000: D1 [0, 50k] all in band 1; D2 [50k, 100k] all in band 2.
    result = statement(target("rep:alice", "100000.00"), deal("D1", "2026-07-10", "50000.00"),
                       deal("D2", "2026-07-11", "50000.00"))

    assert commission(result) == [("D1", 1, Decimal("2000.00")), ("D2", 2, Decimal("4000.00"))]


def test_without_a_revenue_target_every_deal_earns_the_first_tier_with_a_warning() -> None:
    # No target: 4% on everything, however much is sold.
    result = statement(deal("D1", "2026-07-10", "80000.00"), deal("D2", "2026-08-05", "600000.00"))

    assert commission(result) == [("D1", 1, Decimal("3200.00")), ("D2", 1, Decimal("24000.00"))]
    assert result.warnings == (NO_REVENUE_TARGET,)
    assert NO_REVENUE_TARGET == "no revenue target"
    assert "revenue" not in result.attainment


def test_a_zero_revenue_target_is_treated_as_no_target() -> None:
    result = statement(target("rep:alice", "0"), deal("D1", "2026-07-10", "1000.00"))

    assert commission(result) == [("D1", 1, Decimal("40.00"))]
    assert result.warnings == (NO_REVENUE_TARGET,)


def test_a_statement_with_a_target_carries_no_warning() -> None:
    assert statement(*TARGETS, *DEALS).warnings == ()


def test_split_credit_commissions_each_participant_on_their_own_target() -> None:
    # D4 100,000 credited 60,000 / 30,000 / 10,000 (SPEC §9).
    # alice, target 100,000: 50,000 x 4% + 10,000 x 8% = 2,800
    # bob, target 40,000: 20,000 x 4% + 10,000 x 8% = 1,600
    # carol, no target: 10,000 x 4% = 400 with the warning
    events = (target("rep:alice", "100000.00"), target("rep:bob", "40000.00"),
              deal("D4", "2026-07-20", "100000.00", ("alice", "owner", "0.6"),
                   ("bob", "presales", "0.3"), ("carol", "aftersales", "0.1")))

    alice, bob, carol = (statement(*events, rep=rep) for rep in ("alice", "bob", "carol"))

    assert (alice.credited_revenue, bob.credited_revenue, carol.credited_revenue) == (
        Decimal("60000"), Decimal("30000"), Decimal("10000"))
    assert alice.total == Decimal("2800.00")
    assert bob.total == Decimal("1600.00")
    assert (carol.total, carol.warnings) == (Decimal("400.00"), (NO_REVENUE_TARGET,))


def test_a_rep_not_credited_on_any_deal_has_an_empty_statement() -> None:
    result = statement(*TARGETS, *DEALS, rep="bob")

    assert (result.lines, result.total, result.credited_revenue) == ((), Decimal("0.00"), 0)


@pytest.mark.parametrize(("amount", "line"), [
    ("100.125", "4.01"),   # 4.005 rounds half-up
    ("100.124", "4.00"),   # 4.00496 rounds down
    ("0.125", "0.01"),     # 0.005 rounds half-up
])
def test_each_line_is_rounded_half_up_to_cents(amount: str, line: str) -> None:
    result = statement(deal("D1", "2026-07-10", amount))

    assert amounts(result, "commission") == [Decimal(line)]


def test_the_total_is_the_sum_of_the_rounded_lines() -> None:
    # Two lines of 100.125 x 4% = 4.005 each: 4.01 + 4.01 = 8.02 (not round(8.01) = 8.01).
    result = statement(deal("D1", "2026-07-10", "100.125"), deal("D2", "2026-07-11", "100.125"))

    assert result.total == Decimal("8.02")
    assert result.to_json()["total"] == "8.02"


def test_credited_amounts_are_exact_decimals_not_rounded() -> None:
    # 100.01 x 0.5 = 50.005: kept exactly, not rounded to 50.01 before the bands see it.
    events = (deal("D1", "2026-07-10", "100.01", ("alice", "owner", "0.5"),
                   ("bob", "presales", "0.5")),)

    alice, bob = statement(*events), statement(*events, rep="bob")

    assert alice.credited_revenue == bob.credited_revenue == Decimal("50.005")
    assert alice.credited_revenue + bob.credited_revenue == Decimal("100.01")
