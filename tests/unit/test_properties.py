"""Invariants of the rules, checked over generated scenarios (SPEC §2, §7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.engine import calculate, calculate_many
from domain.plan import Plan, parse_plan
from tests.builders import (
    Clock,
    cancelled,
    coaching,
    complaint,
    deal,
    delivered,
    in_memory_ledger,
    ledger_view,
    lines_of,
    logged,
    renewal,
    roster,
    statement_bytes,
    target,
    tiers_plan,
    view_of,
)

SAMPLE_PLAN = parse_plan(
    (Path(__file__).resolve().parents[2] / "perfledger" / "samples" / "plan.yaml").read_text())
Q3_START = datetime(2026, 7, 1, tzinfo=UTC)
REPS = ("alice", "bob", "carol")
CREDIT_PATTERNS: tuple[tuple[tuple[str, str, str], ...], ...] = (
    (("alice", "owner", "1"),),
    (("bob", "owner", "1"),),
    (("alice", "owner", "0.6"), ("bob", "presales", "0.3"), ("carol", "aftersales", "0.1")),
    (("bob", "owner", "0.7"), ("alice", "partner", "0.3")),
    (("carol", "owner", "0.5"), ("alice", "presales", "0.5")),
)
FAST = settings(max_examples=40, deadline=None)

amounts = st.decimals(min_value=0, max_value=500_000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def splits(draw: st.DrawFn) -> list[Decimal]:
    """Between one and five splits in (0, 1] that sum to exactly 1 (in millionths)."""
    cuts = sorted(draw(st.sets(st.integers(1, 999_999), max_size=4)))
    bounds = [0, *cuts, 1_000_000]
    return [Decimal(high - low) / 1_000_000 for low, high in pairwise(bounds)]


@given(amount=amounts, parts=splits())
@settings(max_examples=60, deadline=None)
def test_splits_conserve_the_deal_amount(amount: Decimal, parts: list[Decimal]) -> None:
    reps = [f"rep{n}" for n in range(len(parts))]
    roles = ["owner", "presales", "aftersales", "partner", "partner"]
    credits = [(rep, roles[n], str(split))
               for n, (rep, split) in enumerate(zip(reps, parts, strict=True))]
    view = view_of("2026-Q3", deal("D1", "2026-07-10", str(amount), *credits))

    statements = calculate_many(view, tiers_plan(), reps)

    assert sum(s.credited_revenue for s in statements) == amount


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    """Any valid tiered plan: ascending bounds, rates in [0, 1] (not necessarily ascending)."""
    bounds = sorted(draw(st.sets(st.decimals(min_value="0.05", max_value="3", places=2), max_size=3)))
    rates = draw(st.lists(st.decimals(min_value=0, max_value=1, places=3),
                          min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    tiers = [f'    - {{up_to: "{bound}", rate: "{rate}"}}'
             for bound, rate in zip(bounds, rates, strict=False)]
    tiers.append(f'    - {{rate: "{rates[-1]}"}}')
    return parse_plan("id: generated\nversion: 1\ncurrency: USD\ncommission:\n  tiers:\n"
                      + "\n".join(tiers) + "\n")


targets = st.one_of(st.none(), st.decimals(min_value=1, max_value=1_000_000, places=2))


def commission_total(plan: Plan, target_value: Decimal | None, *deal_amounts: Decimal) -> Decimal:
    events: list[dict[str, Any]] = [deal(f"D{n}", f"2026-07-{n + 1:02d}", str(amount))
                                    for n, amount in enumerate(deal_amounts)]
    if target_value is not None:
        events.append(target("rep:alice", str(target_value)))
    return calculate(view_of("2026-Q3", *events), plan, "alice").total


@given(plan=plans(), target_value=targets, smaller=amounts, more=amounts)
@FAST
def test_commission_never_falls_when_a_deal_is_worth_more(
        plan: Plan, target_value: Decimal | None, smaller: Decimal, more: Decimal) -> None:
    assert commission_total(plan, target_value, smaller) <= commission_total(
        plan, target_value, smaller + more)


@given(plan=plans(), target_value=targets, earlier=st.lists(amounts, max_size=4), later=amounts)
@FAST
def test_commission_never_falls_when_another_deal_is_credited(
        plan: Plan, target_value: Decimal | None, earlier: list[Decimal], later: Decimal) -> None:
    assert commission_total(plan, target_value, *earlier) <= commission_total(
        plan, target_value, *earlier, later)


@given(plan=plans(), target_value=targets, deal_amounts=st.lists(amounts, min_size=1, max_size=4),
       which=st.integers(0, 3), more=amounts)
@FAST
def test_exact_commission_depends_only_on_credited_revenue_and_never_falls(
        plan: Plan, target_value: Decimal | None, deal_amounts: list[Decimal], which: int,
        more: Decimal) -> None:
    # Before rounding, Σ base x rate over the lines is a non-decreasing function of the total.
    def exact(amount_list: list[Decimal]) -> Decimal:
        events = [deal(f"D{n}", f"2026-07-{n + 1:02d}", str(a)) for n, a in enumerate(amount_list)]
        if target_value is not None:
            events.append(target("rep:alice", str(target_value)))
        result = calculate(view_of("2026-Q3", *events), plan, "alice")
        return sum((line.base * line.rate for line in result.lines), Decimal(0))

    bigger = list(deal_amounts)
    bigger[which % len(bigger)] += more
    assert exact(deal_amounts) <= exact(bigger)
    assert exact(deal_amounts) == exact([sum(deal_amounts, Decimal(0))])


@st.composite
def quarters(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A quarter of facts and decisions whose business times (and effective dates) are distinct."""
    hours = draw(st.lists(st.integers(0, 92 * 24 - 1), min_size=1, max_size=8, unique=True))
    events: list[dict[str, Any]] = [
        roster("alice", "east"), roster("bob", "east"), roster("carol", "west"),
        roster("carol", "east", "2026-09-01"),
        target("rep:alice", "200000.00", "2026-07-01", event_id="t1"),
        target("rep:alice", str(draw(amounts)), "2026-08-16", event_id="t2"),
        target("rep:bob", "150000.00", event_id="t3"),
        target("rep:alice", "3", metric="new_customers", event_id="t4"),
        target("rep:alice", "120", metric="coaching_minutes", event_id="t5"),
        coaching("S1", "2026-07-21", "mia", "alice", "bob", minutes=90),
        renewal("R1", "2026-07-20", "24000.00", ("alice", "owner", "0.5"), ("bob", "aftersales", "0.5")),
    ]
    for n, hour in enumerate(hours):
        time = Q3_START + timedelta(hours=hour)
        deal_id, credits = f"D{n}", draw(st.sampled_from(CREDIT_PATTERNS))
        line: dict[str, Any] = {"product_line": "enterprise"}
        if draw(st.booleans()):
            line = {"product_line": "consumer", "units": draw(st.integers(0, 250))}
        events.append(deal(deal_id, time.date().isoformat(), str(draw(amounts)), *credits,
                           at=time.strftime("%H:%M:%S"), new_customer=draw(st.booleans()), **line))
        later = time + timedelta(days=draw(st.integers(1, 100)))
        if draw(st.booleans()):
            events.append(delivered(deal_id, later.date().isoformat()))
        if draw(st.integers(0, 3)) == 0:
            events.append(cancelled(deal_id, (later + timedelta(days=1)).date().isoformat()))
        for k in range(draw(st.integers(0, 3))):
            events.append(complaint(f"K{n}-{k}", (later + timedelta(days=k)).date().isoformat(),
                                    rep_id=draw(st.sampled_from(REPS)), deal_id=deal_id))
    return events


@given(data=st.data(), events=quarters())
@settings(max_examples=30, deadline=None)
def test_the_statement_is_the_same_whatever_order_the_facts_were_recorded_in(
        data: st.DataObject, events: list[dict[str, Any]]) -> None:
    shuffled = data.draw(st.permutations(events))

    for period in ("2026-Q3", "2026-Q4"):
        as_given = calculate_many(view_of(period, *events), SAMPLE_PLAN, REPS)
        reordered = calculate_many(view_of(period, *shuffled), SAMPLE_PLAN, REPS)
        assert [statement_bytes(s) for s in reordered] == [statement_bytes(s) for s in as_given]


@given(data=st.data(), events=quarters())
@settings(max_examples=20, deadline=None)
def test_a_fact_ingested_twice_changes_nothing(data: st.DataObject, events: list[dict[str, Any]]) -> None:
    # Lifecycle events come after every deal.closed so that each one finds its deal.
    ordered = sorted(events, key=lambda raw: raw["type"] in ("deal.delivered", "deal.cancelled"))
    clock = Clock()
    once = in_memory_ledger(clock)
    first = once.record_facts(lines_of(*ordered))
    assert (len(first.accepted), first.rejected) == (len(ordered), [])
    expected = calculate_many(ledger_view(once, "2026-Q3"), SAMPLE_PLAN, REPS)
    size = len(logged(once))

    again = data.draw(st.lists(st.sampled_from(ordered), min_size=1, max_size=len(ordered)))
    clock.tick()
    report = once.record_facts(lines_of(*again))

    assert (report.accepted, report.duplicates, report.rejected) == ([], len(again), [])
    assert len(logged(once)) == size
    after = calculate_many(ledger_view(once, "2026-Q3"), SAMPLE_PLAN, REPS)
    assert [statement_bytes(s) for s in after] == [statement_bytes(s) for s in expected]

    # Another ledger that received some facts twice in the same batch ends up the same.
    doubled = in_memory_ledger(Clock())
    doubled.record_facts(lines_of(*ordered, *again))
    twice = calculate_many(ledger_view(doubled, "2026-Q3"), SAMPLE_PLAN, REPS)
    assert [statement_bytes(s) for s in twice] == [statement_bytes(s) for s in expected]
