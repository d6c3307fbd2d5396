"""Effective targets (SPEC §5): revisions, proration over the period's days, team sums."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.engine import calculate
from domain.engine.team import team_target
from domain.targets import EffectiveTarget, effective_target
from tests.builders import deal, recorded_at, roster, target, tiers_plan, view_of


def effective(*decisions: dict[str, Any], proration: str = "time_weighted",
              known_at: datetime | None = None, scope: str = "rep:alice",
              metric: str = "revenue") -> EffectiveTarget | None:
    """The effective target of scope/metric for 2026-Q3 from decisions recorded in this order."""
    view = view_of("2026-Q3", *decisions, known_at=known_at)
    wanted = [d for d in view.targets if d.scope == scope and d.metric == metric
              and view.known(d.recorded_at)]
    return effective_target(wanted, view.period, proration)


def value_of(*decisions: dict[str, Any], proration: str = "time_weighted",
             known_at: datetime | None = None) -> Decimal | None:
    found = effective(*decisions, proration=proration, known_at=known_at)
    return found.value if found else None


def test_no_decision_means_no_target() -> None:
    assert value_of() is None
    assert value_of(target("rep:bob", "100000.00")) is None


def test_a_target_without_effective_from_holds_for_the_whole_period() -> None:
    found = effective(target("rep:alice", "200000.00", event_id="t1"))

    assert found is not None
    assert found.value == Decimal("200000.00")
    assert [(s.starts, s.ends, s.days) for s in found.segments] == [
        (date(2026, 7, 1), date(2026, 9, 30), 92)]
    assert found.decision_ids == ("t1",)


def test_a_mid_period_revision_is_time_weighted_over_46_and_46_days() -> None:
    # 200,000 x 46/92 + 150,000 x 46/92 = 175,000.00 (SPEC §9)
    found = effective(target("rep:alice", "200000.00", "2026-07-01", event_id="t1"),
                      target("rep:alice", "150000.00", "2026-08-16", event_id="t2"))

    assert found is not None
    assert found.value == Decimal("175000.00")
    assert [(s.decision_id, s.value, s.starts, s.ends, s.days) for s in found.segments] == [
        ("t1", Decimal("200000.00"), date(2026, 7, 1), date(2026, 8, 15), 46),
        ("t2", Decimal("150000.00"), date(2026, 8, 16), date(2026, 9, 30), 46),
    ]


def test_three_values_each_hold_until_the_day_before_the_next() -> None:
    # 92,000 x 31/92 + 46,000 x 31/92 + 184,000 x 30/92 = 31,000 + 15,500 + 60,000
    value = value_of(target("rep:alice", "92000.00", "2026-07-01"),
                     target("rep:alice", "46000.00", "2026-08-01"),
                     target("rep:alice", "184000.00", "2026-09-01"))

    assert value == Decimal("106500.00")


def test_a_rep_joining_on_day_31_of_92_has_62_92_of_the_value() -> None:
    # Days 1..30 have no target; from July 31st to September 30th is 62 days.
    found = effective(target("rep:alice", "92000.00", "2026-07-31"))

    assert found is not None
    assert found.segments[0].days == 62
    assert found.value == Decimal("62000.00")


def test_replace_proration_lets_the_last_value_hold_for_the_whole_period() -> None:
    found = effective(target("rep:alice", "200000.00", "2026-07-01", event_id="t1"),
                      target("rep:alice", "150000.00", "2026-08-16", event_id="t2"),
                      proration="replace")

    assert found is not None
    assert found.value == Decimal("150000.00")
    assert found.decision_ids == ("t2",)
    assert found.segments[0].days == 92


def test_replace_proration_gives_a_late_joiner_the_full_value() -> None:
    assert value_of(target("rep:alice", "92000.00", "2026-07-31"), proration="replace") == 92000


def test_at_equal_effective_from_the_later_recorded_decision_wins() -> None:
    first = target("rep:alice", "120000.00", "2026-08-01", event_id="first")
    second = target("rep:alice", "90000.00", "2026-08-01", event_id="second")
    base = target("rep:alice", "92000.00", "2026-07-01", event_id="base")

    # 92,000 x 31/92 + 90,000 x 61/92 = 31,000 + 59,673.913... = 90,673.91
    assert value_of(base, first, second) == Decimal("90673.91")
    # recorded the other way round, the 120,000 wins: 31,000 + 120,000 x 61/92 = 110,565.22
    assert value_of(base, second, first) == Decimal("110565.22")


def test_at_equal_effective_from_the_superseded_decision_is_not_behind_the_value() -> None:
    found = effective(target("rep:alice", "120000.00", event_id="first"),
                      target("rep:alice", "90000.00", event_id="second"))

    assert found is not None
    assert found.decision_ids == ("second",)
    assert found.value == Decimal("90000.00")


def test_an_effective_from_before_the_period_counts_from_the_first_day() -> None:
    found = effective(target("rep:alice", "200000.00", "2026-06-15"))

    assert found is not None
    assert found.value == Decimal("200000.00")
    assert (found.segments[0].starts, found.segments[0].days) == (date(2026, 7, 1), 92)


def test_of_two_decisions_before_the_period_the_later_effective_from_wins() -> None:
    # Ordered by effective_from, June 15th comes after June 1st whatever the recording order:
    # its value holds from June 15th to the end of Q3.
    later_first = effective(target("rep:alice", "150000.00", "2026-06-15", event_id="june-15"),
                            target("rep:alice", "200000.00", "2026-06-01", event_id="june-1"))

    assert later_first is not None
    assert later_first.value == Decimal("150000.00")
    assert later_first.decision_ids == ("june-15",)


def test_a_revision_effective_after_the_period_end_is_ignored() -> None:
    value = value_of(target("rep:alice", "200000.00", "2026-07-01"),
                     target("rep:alice", "50000.00", "2026-10-01"))

    assert value == Decimal("200000.00")


def test_the_effective_target_is_rounded_half_up_to_cents() -> None:
    # 1,000.01 x 46/92 = 500.005 -> 500.01 (half-up; half-even would give 500.00)
    assert value_of(target("rep:alice", "1000.01", "2026-08-16")) == Decimal("500.01")
    # 100,000 x 62/92 = 67,391.3043... -> 67,391.30
    assert value_of(target("rep:alice", "100000.00", "2026-07-31")) == Decimal("67391.30")
    # 0.01 x 46/92 = 0.005 -> 0.01
    assert value_of(target("rep:alice", "0.01", "2026-08-16")) == Decimal("0.01")


def test_a_replace_target_is_rounded_half_up_to_cents_too() -> None:
    assert value_of(target("rep:alice", "100.005"), proration="replace") == Decimal("100.01")


def test_a_revision_recorded_after_the_as_known_at_time_is_not_known() -> None:
    decisions = (target("rep:alice", "200000.00", "2026-07-01"),
                 target("rep:alice", "150000.00", "2026-08-16"))

    assert value_of(*decisions, known_at=recorded_at(1)) == Decimal("200000.00")
    assert value_of(*decisions, known_at=recorded_at(2)) == Decimal("175000.00")
    assert value_of(*decisions, known_at=recorded_at(0)) is None


def test_targets_of_another_period_do_not_apply() -> None:
    view = view_of("2026-Q3", target("rep:alice", "99000.00", period="2026-Q4"),
                   deal("D1", "2026-07-10", "1000.00"))

    assert calculate(view, tiers_plan(), "alice").effective_targets == {}


def test_a_statement_carries_each_metric_target_it_found() -> None:
    view = view_of("2026-Q3", target("rep:alice", "175000.00"),
                   target("rep:alice", "4", metric="new_customers"),
                   target("rep:alice", "600", metric="coaching_minutes"))

    targets = calculate(view, tiers_plan(), "alice").effective_targets

    assert {m: t.value for m, t in targets.items()} == {
        "revenue": Decimal("175000.00"), "new_customers": Decimal("4.00"),
        "coaching_minutes": Decimal("600.00")}


TEAM = (roster("alice", "east"), roster("bob", "east"), roster("carol", "west"))


def test_a_team_without_its_own_target_has_the_sum_of_its_members_targets() -> None:
    # alice 175,000 (time-weighted revision) + bob 100,000; carol is in another team.
    view = view_of("2026-Q3", *TEAM,
                   target("rep:alice", "200000.00", "2026-07-01"),
                   target("rep:alice", "150000.00", "2026-08-16"),
                   target("rep:bob", "100000.00"),
                   target("rep:carol", "500000.00"))

    found = team_target(view, "east", "revenue", "time_weighted")

    assert found is not None
    assert found.value == Decimal("275000.00")


def test_a_teams_own_target_wins_over_the_sum_of_its_members() -> None:
    view = view_of("2026-Q3", *TEAM, target("rep:alice", "100000.00"),
                   target("rep:bob", "100000.00"), target("team:east", "150000.00"))

    found = team_target(view, "east", "revenue", "time_weighted")

    assert found is not None
    assert found.value == Decimal("150000.00")


def test_team_membership_for_the_sum_is_as_of_the_periods_last_day() -> None:
    # bob moves to west on September 15th; dave joins east on September 30th.
    view = view_of("2026-Q3", *TEAM, roster("bob", "west", "2026-09-15"),
                   roster("dave", "east", "2026-09-30"), roster("erin", "east", "2026-10-01"),
                   target("rep:alice", "100000.00"), target("rep:bob", "70000.00"),
                   target("rep:dave", "30000.00"), target("rep:erin", "5000.00"))

    found = team_target(view, "east", "revenue", "time_weighted")

    assert found is not None
    assert found.value == Decimal("130000.00")  # alice + dave


def test_a_team_with_no_targets_anywhere_has_none() -> None:
    view = view_of("2026-Q3", *TEAM)

    assert team_target(view, "east", "revenue", "time_weighted") is None
