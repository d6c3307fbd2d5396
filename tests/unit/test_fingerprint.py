"""Statement fingerprints (SPEC §7 step 11): same inputs, same bytes; any changed input, new print."""

from __future__ import annotations

from typing import Any

import pytest

from domain.engine import Statement, calculate, calculate_many
from tests.builders import (
    cancelled,
    coaching,
    complaint,
    deal,
    delivered,
    recorded_at,
    renewal,
    roster,
    statement_bytes,
    target,
    tiers_plan,
    view_of,
)

EXTRAS = """\
renewals: {rate: "0.03", count_toward_attainment: false}
delivery_bonus: {rate: "0.02"}
clawback:
  cancellation_window_days: 180
  complaints:
    - {category: overpromised, min_severity: high, within_days: 90, rate: "0.5"}
team_bonus: {threshold: "1.0", rate: "0.01"}
scorecard:
  weights: {revenue: "0.5", quality: "0.2", coaching: "0.1"}
"""
QUARTER = (
    roster("alice", "east"), roster("bob", "east"),
    target("rep:alice", "200000.00", "2026-07-01", event_id="t1"),
    target("rep:alice", "150000.00", "2026-08-16", event_id="t2"),
    target("rep:bob", "50000.00", event_id="t3"),
    target("rep:alice", "300", metric="coaching_minutes", event_id="t4"),
    deal("D0", "2026-06-20", "30000.00"),
    deal("D1", "2026-07-10", "80000.00"), deal("D2", "2026-08-05", "60000.00"),
    deal("D3", "2026-09-20", "70000.00"),
    deal("D5", "2026-08-10", "60000.00", ("bob", "owner", "1")),
    delivered("D0", "2026-07-15"),
    renewal("R1", "2026-07-20", "12000.00"),
    complaint("K1", "2026-08-20", deal_id="D2"),
    coaching("S1", "2026-07-21", "mia", "alice", minutes=90),
)


def alice(*events: dict[str, Any], extra: str = EXTRAS) -> Statement:
    return calculate(view_of("2026-Q3", *events), tiers_plan(extra=extra), "alice")


def replaced(events: tuple[dict[str, Any], ...], index: int, new: dict[str, Any]
             ) -> tuple[dict[str, Any], ...]:
    return (*events[:index], new, *events[index + 1:])


def test_the_same_inputs_give_the_same_statement_bytes_and_fingerprint() -> None:
    first, second = alice(*QUARTER), alice(*QUARTER)

    assert statement_bytes(first) == statement_bytes(second)
    assert first.fingerprint == second.fingerprint
    assert len(first.fingerprint) == 64
    assert int(first.fingerprint, 16) >= 0  # a sha256 in hex


def test_the_statement_json_carries_its_fingerprint_and_plan_hash() -> None:
    result = alice(*QUARTER)
    document = result.to_json()

    assert document["fingerprint"] == result.fingerprint
    assert document["plan"]["sha256"] == tiers_plan(extra=EXTRAS).sha256


def position_of(event_id: str) -> int:
    return next(i for i, raw in enumerate(QUARTER) if raw["id"] == event_id)


@pytest.mark.parametrize(("event_id", "change"), [
    ("crm-D1", {"amount": "80000.01"}),                       # a deal alice was credited on
    ("crm-D0", {"customer_id": "C-other"}),                   # the older deal delivered this quarter
    ("crm-D5", {"amount": "60000.50"}),                       # a teammate's deal (team bonus)
    ("billing-R1", {"term_months": 24}),                      # a renewal
    ("support-K1", {"severity": "medium"}),                   # a complaint
    ("lms-S1", {"minutes": 95}),                              # a coaching session
    ("t2", {"value": "150000.01"}),                           # a target revision
    ("t2", {"effective_from": "2026-08-17"}),                 # when the revision took effect
    ("t4", {"value": "301"}),                                 # another metric's target
    ("t3", {"value": "60000.00"}),                            # a teammate's target (team target)
])
def test_a_changed_source_event_or_target_decision_changes_the_fingerprint(
        event_id: str, change: dict[str, Any]) -> None:
    index = position_of(event_id)
    original = QUARTER[index]
    changed = {**original, "data": {**original["data"], **change}}

    before = alice(*QUARTER)
    after = alice(*replaced(QUARTER, index, changed))

    assert after.fingerprint != before.fingerprint


@pytest.mark.parametrize("added", [
    cancelled("D1", "2026-08-01"),
    delivered("D1", "2026-09-01"),
    complaint("K2", "2026-09-01", deal_id="D1"),
    target("rep:alice", "160000.00", "2026-09-01", event_id="t9"),
    target("team:east", "250000.00", event_id="t-team"),
    renewal("R2", "2026-09-10", "1000.00"),
    deal("D6", "2026-09-25", "1000.00", ("bob", "owner", "0.5"), ("alice", "partner", "0.5")),
])
def test_a_new_fact_or_decision_bearing_on_the_statement_changes_the_fingerprint(
        added: dict[str, Any]) -> None:
    assert alice(*QUARTER, added).fingerprint != alice(*QUARTER).fingerprint


def test_a_teams_own_target_is_part_of_the_fingerprint_when_it_decides_the_team_bonus() -> None:
    # Team revenue 270,000 (alice 210,000 + bob 60,000): a 250,000 team target pays a bonus,
    # a 300,000 one does not. Different statements must not share a fingerprint.
    reached = alice(*QUARTER, target("team:east", "250000.00", event_id="t-team"))
    missed = alice(*QUARTER, target("team:east", "300000.00", event_id="t-team"))

    assert reached.total != missed.total
    assert reached.fingerprint != missed.fingerprint


def test_another_plan_changes_the_fingerprint() -> None:
    assert alice(*QUARTER, extra=EXTRAS + 'cap: {max_total: "1000000.00"}\n').fingerprint != (
        alice(*QUARTER).fingerprint)


@pytest.mark.parametrize("unrelated", [
    deal("D9", "2026-08-01", "5000.00", ("carol", "owner", "1")),   # someone else's deal
    deal("D8", "2026-10-02", "5000.00"),                            # alice's deal of Q4
    target("rep:carol", "90000.00", event_id="t-carol"),            # someone else's target
    target("rep:alice", "1.00", period="2026-Q4", event_id="t-q4"), # alice's target of Q4
    complaint("K9", "2026-08-01", rep_id="carol"),                   # a complaint against carol
])
def test_facts_the_statement_does_not_use_leave_the_fingerprint_alone(unrelated: dict[str, Any]) -> None:
    with_it, without = alice(*QUARTER, unrelated), alice(*QUARTER)

    assert with_it.fingerprint == without.fingerprint
    assert statement_bytes(with_it) == statement_bytes(without)


def test_as_known_before_a_fact_the_statement_is_the_one_without_it() -> None:
    late = cancelled("D1", "2026-08-01")
    events = (*QUARTER, late)
    view = view_of("2026-Q3", *events, known_at=recorded_at(len(QUARTER)))

    as_known = calculate(view, tiers_plan(extra=EXTRAS), "alice")

    assert statement_bytes(as_known) == statement_bytes(alice(*QUARTER))


def test_a_preview_without_provenance_has_the_same_figures_and_lines_and_no_fingerprint() -> None:
    view, plan = view_of("2026-Q3", *QUARTER), tiers_plan(extra=EXTRAS)
    proven = calculate_many(view, plan, ["alice", "bob"])
    preview = calculate_many(view, plan, ["alice", "bob"], provenance=False)
    for whole, figures in zip(proven, preview, strict=True):
        assert whole.fingerprint
        assert whole.sources
        assert (figures.fingerprint, figures.sources) == ("", ())
        shown = {**whole.to_json(), "fingerprint": ""}
        assert figures.to_json() == shown
    assert [s.total for s in preview] == [s.total for s in proven]
    assert any(line.kind == "team_bonus" for line in preview[0].lines)
