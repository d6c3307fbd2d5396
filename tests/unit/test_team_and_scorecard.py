"""Team bonus, the multi-metric scorecard and the cap (SPEC §5.4, §7 steps 8–10)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.engine import Statement, calculate
from tests.builders import (
    amounts,
    coaching,
    complaint,
    deal,
    roster,
    target,
    tiers_plan,
    view_of,
)

TEAM_BONUS = 'team_bonus: {threshold: "1.0", rate: "0.01"}\n'
SCORECARD = """\
scorecard:
  cap: "1.5"
  weights: {revenue: "0.5", new_customers: "0.2", quality: "0.2", coaching: "0.1"}
  bonus: {target_amount: "5000.00", min_score: "0.6"}
"""
EAST = (roster("alice", "east"), roster("bob", "east"), roster("carol", "west"))


def statement(*events: dict[str, Any], rep: str = "alice", extra: str = TEAM_BONUS) -> Statement:
    return calculate(view_of("2026-Q3", *events), tiers_plan(extra=extra), rep)


# Team bonus


def test_when_the_team_reaches_its_target_each_member_shares_the_pool_by_credited_revenue() -> None:
    # Team target = alice 100,000 + bob 50,000 = 150,000; team revenue 120,000 + 40,000 = 160,000.
    # Pool 1% x 160,000 = 1,600, shared 120:40 -> alice 1,200, bob 400.
    events = (*EAST, target("rep:alice", "100000.00"), target("rep:bob", "50000.00"),
              deal("D1", "2026-07-10", "120000.00"),
              deal("D2", "2026-07-11", "40000.00", ("bob", "owner", "1")))

    alice, bob = statement(*events), statement(*events, rep="bob")

    assert amounts(alice, "team_bonus") == [Decimal("1200.00")]
    assert amounts(bob, "team_bonus") == [Decimal("400.00")]
    assert alice.team_id == bob.team_id == "east"
    assert alice.lines[-1].kind == "team_bonus"  # closing lines come after the sourced ones


def test_no_team_bonus_when_the_team_falls_short_even_if_one_member_is_above_target() -> None:
    # alice 100,000 on 100,000 (1.0) but the team 140,000 on 150,000 (0.93).
    events = (*EAST, target("rep:alice", "100000.00"), target("rep:bob", "50000.00"),
              deal("D1", "2026-07-10", "100000.00"),
              deal("D2", "2026-07-11", "40000.00", ("bob", "owner", "1")))

    assert amounts(statement(*events), "team_bonus") == []


def test_the_teams_own_target_decides_when_there_is_one() -> None:
    # Members' targets sum to 150,000, but east's own target is 170,000: 160,000 falls short.
    deals = (deal("D1", "2026-07-10", "120000.00"),
             deal("D2", "2026-07-11", "40000.00", ("bob", "owner", "1")))
    members = (target("rep:alice", "100000.00"), target("rep:bob", "50000.00"))

    short = statement(*EAST, *members, target("team:east", "170000.00"), *deals)
    exactly = statement(*EAST, *members, target("team:east", "160000.00"), *deals)

    assert amounts(short, "team_bonus") == []
    assert amounts(exactly, "team_bonus") == [Decimal("1200.00")]  # attainment 1.0 >= threshold


def test_a_member_who_sold_nothing_gets_no_share() -> None:
    events = (*EAST, target("rep:alice", "100000.00"), deal("D1", "2026-07-10", "120000.00"))

    assert amounts(statement(*events, rep="bob"), "team_bonus") == []
    assert amounts(statement(*events), "team_bonus") == [Decimal("1200.00")]


def test_a_rep_without_a_team_gets_no_team_bonus() -> None:
    events = (target("rep:alice", "100000.00"), deal("D1", "2026-07-10", "120000.00"))

    result = statement(*events)

    assert result.team_id is None
    assert amounts(result, "team_bonus") == []


def test_membership_is_taken_on_the_periods_last_day() -> None:
    # bob moves to west on September 1st: east is alice alone (target 100,000, sold 120,000).
    events = (*EAST, roster("bob", "west", "2026-09-01"), target("rep:alice", "100000.00"),
              target("rep:bob", "500000.00"), deal("D1", "2026-07-10", "120000.00"),
              deal("D2", "2026-07-11", "40000.00", ("bob", "owner", "1")))

    alice, bob = statement(*events), statement(*events, rep="bob")

    assert amounts(alice, "team_bonus") == [Decimal("1200.00")]
    assert bob.team_id == "west"
    assert amounts(bob, "team_bonus") == []


def test_a_team_without_any_target_pays_no_team_bonus() -> None:
    events = (*EAST, deal("D1", "2026-07-10", "120000.00"))

    assert amounts(statement(*events), "team_bonus") == []


# Scorecard

ALICE_QUARTER = (
    target("rep:alice", "100000.00"),
    target("rep:alice", "4", metric="new_customers"),
    target("rep:alice", "600", metric="coaching_minutes"),
    deal("D1", "2026-07-10", "60000.00", new_customer=True),
    deal("D2", "2026-08-05", "20000.00", new_customer=True),
    deal("D3", "2026-08-06", "1000.00", ("bob", "owner", "0.5"), ("alice", "presales", "0.5"),
         new_customer=True),
    complaint("K1", "2026-08-01", severity="medium"),
    coaching("S1", "2026-07-15", "mia", "alice", "bob", minutes=200),
    coaching("S2", "2026-08-15", "alice", "carol", minutes=500),
    coaching("S3", "2026-09-15", "mia", "alice", minutes=100),
)


def test_the_scorecard_weighs_revenue_new_customers_quality_and_coaching() -> None:
    # revenue 80,500 / 100,000 = 0.805; new customers 2 owned / 4 = 0.5 (D3 is bob's);
    # quality 1 - 2 (one medium) / 10 = 0.8; coaching 300 minutes as coachee / 600 = 0.5
    # (the 500 minutes alice coached carol do not count).
    # score = 0.5 x 0.805 + 0.2 x 0.5 + 0.2 x 0.8 + 0.1 x 0.5 = 0.7125; bonus 5,000 x 0.7125
    result = statement(*ALICE_QUARTER, extra=SCORECARD)

    assert result.to_json()["scorecard"] == {
        "metrics": {"revenue": "0.8050", "new_customers": "0.5000", "quality": "0.8000",
                    "coaching": "0.5000"},
        "weights": {"revenue": "0.5", "new_customers": "0.2", "quality": "0.2", "coaching": "0.1"},
        "score": "0.7125",
    }
    assert amounts(result, "scorecard_bonus") == [Decimal("3562.50")]


def test_metrics_without_a_target_are_left_out_and_the_weights_renormalised() -> None:
    # Only revenue (80,000 / 100,000 = 0.8) and quality (0.8) remain: (0.4 + 0.16) / 0.7 = 0.8.
    events = (target("rep:alice", "100000.00"), deal("D1", "2026-07-10", "80000.00"),
              complaint("K1", "2026-08-01", severity="medium"))

    result = statement(*events, extra=SCORECARD)

    assert set(result.scorecard.weights) == {"revenue", "quality"}
    assert result.scorecard.score == Decimal("0.8")
    assert amounts(result, "scorecard_bonus") == [Decimal("4000.00")]


def test_each_metric_is_capped_before_weighing() -> None:
    # revenue 200,000 / 100,000 = 2.0 capped at 1.5; quality 0.8.
    # (0.5 x 1.5 + 0.2 x 0.8) / 0.7 = 0.91 / 0.7 = 1.3 -> bonus 6,500
    events = (target("rep:alice", "100000.00"), deal("D1", "2026-07-10", "200000.00"),
              complaint("K1", "2026-08-01", severity="medium"))

    result = statement(*events, extra=SCORECARD)

    assert result.scorecard.metrics["revenue"] == Decimal("1.5")
    assert result.scorecard.score == Decimal("1.3")
    assert amounts(result, "scorecard_bonus") == [Decimal("6500.00")]
    assert result.to_json()["attainment"]["revenue"] == "2.0000"  # attainment itself is not capped


def test_quality_uses_a_default_allowance_of_10_complaint_weight_points() -> None:
    # low 1 + medium 2 + high 3 = 6 -> 1 - 6/10 = 0.4; a complaint of Q2 does not count.
    events = (complaint("K1", "2026-07-02", severity="low"), complaint("K2", "2026-07-03", severity="medium"),
              complaint("K3", "2026-07-04", severity="high"), complaint("K0", "2026-06-30", severity="high"))

    assert statement(*events, extra=SCORECARD).scorecard.metrics["quality"] == Decimal("0.4")


def test_quality_follows_a_complaint_allowance_target_and_never_goes_below_zero() -> None:
    complaints = (complaint("K1", "2026-07-02", severity="high"),
                  complaint("K2", "2026-07-03", severity="high"))

    generous = statement(*complaints, target("rep:alice", "12", metric="complaint_allowance"),
                         extra=SCORECARD)
    strict = statement(*complaints, target("rep:alice", "4", metric="complaint_allowance"),
                       extra=SCORECARD)

    assert generous.scorecard.metrics["quality"] == Decimal("0.5")  # 1 - 6/12
    assert strict.scorecard.metrics["quality"] == 0                 # max(0, 1 - 6/4)


def test_the_scorecard_bonus_needs_the_minimum_score() -> None:
    # revenue 0.44, quality 1: (0.22 + 0.2) / 0.7 = 0.6 exactly -> 3,000; 0.40 -> 0.5714, none.
    at_min = statement(target("rep:alice", "100000.00"), deal("D1", "2026-07-10", "44000.00"),
                       extra=SCORECARD)
    below = statement(target("rep:alice", "100000.00"), deal("D1", "2026-07-10", "40000.00"),
                      extra=SCORECARD)

    assert at_min.scorecard.score == Decimal("0.6")
    assert amounts(at_min, "scorecard_bonus") == [Decimal("3000.00")]
    assert below.scorecard.score is not None
    assert below.scorecard.score < Decimal("0.6")
    assert amounts(below, "scorecard_bonus") == []


def test_new_customers_count_only_deals_the_rep_owns() -> None:
    # bob owns D3 (new customer) and presells D1 (new customer, owned by alice): 1 / 2.
    events = (target("rep:bob", "2", metric="new_customers"),
              deal("D1", "2026-07-10", "1000.00", ("alice", "owner", "0.5"), ("bob", "presales", "0.5"),
                   new_customer=True),
              deal("D3", "2026-07-11", "1000.00", ("bob", "owner", "1"), new_customer=True),
              deal("D4", "2026-07-12", "1000.00", ("bob", "owner", "1")))

    assert statement(*events, rep="bob", extra=SCORECARD).scorecard.metrics["new_customers"] == Decimal("0.5")


def test_without_a_scorecard_section_there_is_no_score() -> None:
    result = statement(*ALICE_QUARTER, extra="")

    assert result.scorecard.score is None
    assert amounts(result, "scorecard_bonus") == []


# Cap


CAP = 'cap: {max_total: "10000.00"}\n'
SPEC_Q3 = (target("rep:alice", "200000.00", "2026-07-01"), target("rep:alice", "150000.00", "2026-08-16"),
           deal("D1", "2026-07-10", "80000.00"), deal("D2", "2026-08-05", "60000.00"),
           deal("D3", "2026-09-20", "70000.00"))


def test_a_total_above_the_cap_gets_one_negative_line_of_the_excess() -> None:
    # SPEC §9 time-weighted total 14,700 against a 10,000 cap: -4,700.
    result = statement(*SPEC_Q3, extra=CAP)

    assert amounts(result, "cap") == [Decimal("-4700.00")]
    assert result.lines[-1].kind == "cap"
    assert result.total == Decimal("10000.00")


def test_a_total_at_or_below_the_cap_is_left_alone() -> None:
    result = statement(*SPEC_Q3, extra='cap: {max_total: "14700.00"}\n')

    assert amounts(result, "cap") == []
    assert result.total == Decimal("14700.00")


def test_the_cap_applies_to_the_total_including_team_and_scorecard_bonuses() -> None:
    # 14,700 commission + 2,100 team bonus (1% of 210,000; alice's team is alice alone) = 16,800
    # against a 15,000 cap: -1,800.
    result = statement(roster("alice", "east"), *SPEC_Q3,
                       extra=TEAM_BONUS + 'cap: {max_total: "15000.00"}\n')

    assert [line.kind for line in result.lines[-2:]] == ["team_bonus", "cap"]
    assert amounts(result, "cap") == [Decimal("-1800.00")]
    assert result.total == Decimal("15000.00")
