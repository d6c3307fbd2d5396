"""Running totals (domain/engine/running.py): stepping them fact by fact gives, after every fact,
the same published figures and the same totals as recomputing the whole statement."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.engine import calculate_many
from domain.engine.credit import CreditBook, Sale
from domain.engine.running import (
    RunningTotals,
    after_coaching,
    after_sale,
    running_totals,
    standing,
    standing_of,
)
from domain.engine.view import LedgerView
from domain.plan import Plan, parse_plan
from tests.builders import coaching, complaint, deal, renewal, roster, target, view_of

SAMPLE = (Path(__file__).resolve().parents[2] / "perfledger" / "samples" / "plan.yaml").read_text()
REPS = ("alice", "bob", "carol")
CREDITS = (
    (("alice", "owner", "1"),),
    (("bob", "owner", "1"),),
    (("alice", "owner", "0.6"), ("bob", "presales", "0.3"), ("carol", "aftersales", "0.1")),
    (("carol", "owner", "0.5"), ("alice", "presales", "0.5")),
)
BASE = (
    roster("alice", "team-1"), roster("bob", "team-1"), roster("carol", "team-2"),
    target("rep:alice", "400000"), target("rep:bob", "300000"),
    target("rep:alice", "5", metric="new_customers"),
    target("rep:alice", "600", metric="coaching_minutes"),
    target("rep:bob", "4", metric="complaint_allowance"),
    target("rep:carol", "100000", metric="renewals"),
    complaint("K1", "2026-07-02", rep_id="bob", severity="medium"),
)


def plan_with(renewals_count: bool) -> Plan:
    text = SAMPLE.replace("count_toward_attainment: false",
                          f"count_toward_attainment: {str(renewals_count).lower()}")
    return parse_plan(text.replace('max_total: "100000.00"', 'max_total: "60000.00"'))


@st.composite
def later_facts(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Deals, renewals and coaching sessions, one a day on rising days of the quarter."""
    facts: list[dict[str, Any]] = []
    days = sorted(draw(st.sets(st.integers(2, 91), min_size=1, max_size=14)))
    for n, offset in enumerate(days):
        day = (date(2026, 7, 1) + timedelta(days=offset)).isoformat()
        kind = draw(st.sampled_from(("deal", "deal", "deal", "consumer", "renewal", "coaching")))
        credits = draw(st.sampled_from(CREDITS))
        amount = str(draw(st.decimals(min_value=1, max_value=250_000, places=2)))
        if kind == "deal":
            facts.append(deal(f"D{n}", day, amount, *credits,
                              new_customer=draw(st.booleans())))
        elif kind == "consumer":
            facts.append(deal(f"D{n}", day, amount, *credits, product_line="consumer",
                              units=draw(st.integers(1, 140))))
        elif kind == "renewal":
            facts.append(renewal(f"R{n}", day, amount, *credits))
        else:
            facts.append(coaching(f"S{n}", day, "carol", *draw(st.sets(
                st.sampled_from(REPS), min_size=1)), minutes=draw(st.integers(15, 240))))
    return facts


def full(view: LedgerView, plan: Plan) -> dict[str, tuple[Any, RunningTotals]]:
    book = CreditBook(view, plan)
    return {s.rep_id: (standing_of(s), running_totals(book, s))
            for s in calculate_many(view, plan, REPS)}


def stepped(totals: dict[str, RunningTotals], view: LedgerView, plan: Plan,
            raw: dict[str, Any]) -> dict[str, RunningTotals]:
    """The totals after one more fact, by steps alone."""
    after = dict(totals)
    if raw["type"] == "coaching.session_held":
        for rep in raw["data"]["rep_ids"]:
            after[rep] = after_coaching(after[rep], raw["data"]["minutes"])
        return after
    recorded = next(f for f in (*view.deals, *view.renewals) if f.event_id == raw["id"])
    for credit in recorded.payload.credits:
        sale = Sale(recorded, recorded.payload.amount * credit.split)
        moved = after_sale(after[credit.rep_id], plan, credit.rep_id, sale)
        assert moved is not None, "facts on rising days are never late"
        after[credit.rep_id] = moved
    return after


@given(facts=later_facts(), renewals_count=st.booleans())
@settings(max_examples=60, deadline=None)
def test_stepping_the_totals_gives_what_recomputing_the_statement_gives(
        facts: list[dict[str, Any]], renewals_count: bool) -> None:
    plan = plan_with(renewals_count)
    recorded = list(BASE)
    totals = {rep: t for rep, (_, t) in full(view_of("2026-Q3", *recorded), plan).items()}
    for raw in facts:
        recorded.append(raw)
        view = view_of("2026-Q3", *recorded)
        totals = stepped(totals, view, plan, raw)
        expected = full(view, plan)
        teams = {"team-1": ("alice", "bob"), "team-2": ("carol",)}
        for rep in REPS:
            team = teams["team-1" if rep != "carol" else "team-2"]
            team_revenue = sum((totals[m].credited for m in team), Decimal(0))
            assert standing(totals[rep], plan, team_revenue) == expected[rep][0], (rep, raw["id"])
            assert totals[rep] == expected[rep][1], (rep, raw["id"])


def test_a_sale_earlier_than_one_already_counted_is_not_a_step() -> None:
    plan = plan_with(False)
    view = view_of("2026-Q3", *BASE, deal("D1", "2026-08-10", "1000"))
    totals = full(view, plan)["alice"][1]
    late_view = view_of("2026-Q3", *BASE, deal("D1", "2026-08-10", "1000"),
                        deal("D0", "2026-08-09", "1000"))
    late = next(d for d in late_view.deals if d.event_id == "crm-D0")

    assert after_sale(totals, plan, "alice", Sale(late, Decimal(1000))) is None


def test_totals_survive_their_stored_form() -> None:
    plan = plan_with(True)
    view = view_of("2026-Q3", *BASE, deal("D1", "2026-08-10", "1000.50", units=0),
                   renewal("R1", "2026-08-11", "99.99", *CREDITS[2]))
    for _, totals in full(view, plan).values():
        assert RunningTotals.from_json(totals.to_json()) == totals
