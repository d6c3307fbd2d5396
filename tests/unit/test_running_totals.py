"""Running totals (domain/engine/running.py): stepping them fact by fact gives, after every fact,
the same published figures and the same totals as recomputing the whole statement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.engine import calculate_many
from domain.engine.credit import CreditBook, Sale, removes
from domain.engine.running import (
    RunningTotals,
    after_cancellation,
    after_coaching,
    after_complaint,
    after_delivery,
    after_sale,
    after_targets,
    running_totals,
    standing,
    standing_of,
)
from domain.engine.view import LedgerView
from domain.plan import Plan, parse_plan
from tests.builders import (
    cancelled,
    coaching,
    complaint,
    deal,
    delivered,
    renewal,
    roster,
    target,
    view_of,
)

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
    """Deals, renewals, coaching sessions, deliveries and cancellations of earlier deals,
    complaints (on an earlier deal or none) and target revisions (a rep's or a team's, any
    metric), one a day, on rising days of the quarter or in any order."""
    facts: list[dict[str, Any]] = []
    days = sorted(draw(st.sets(st.integers(2, 91), min_size=1, max_size=14)))
    if draw(st.booleans()):  # facts arriving late, out of business-time order
        days = draw(st.permutations(days))
    for n, offset in enumerate(days):
        day = (date(2026, 7, 1) + timedelta(days=offset)).isoformat()
        kind = draw(st.sampled_from(("deal", "deal", "deal", "consumer", "renewal", "coaching",
                                     "delivery", "complaint", "target", "cancel")))
        facts.append(one_fact(draw, kind, n, day, facts))
    return facts


def one_fact(draw: st.DrawFn, kind: str, n: int, day: str,
             facts: list[dict[str, Any]]) -> dict[str, Any]:
    """The n-th fact, of the kind (a coaching session when no deal is there to deliver or
    cancel), on the day, after `facts`."""
    if kind in ("cancel", "delivery"):
        found = lifecycle_fact(draw, kind, day, facts)
        if found is not None:
            return found
        kind = "coaching"
    if kind == "complaint":
        return complaint(f"K{n + 2}", day, draw(st.sampled_from(REPS)),
                         draw(st.sampled_from([None, *(d for d, _ in deals_so_far(facts))])),
                         severity=draw(st.sampled_from(("low", "medium", "high"))),
                         category=draw(st.sampled_from(("overpromised", "billing"))))
    if kind == "target":
        return target(draw(st.sampled_from(("rep:alice", "rep:bob", "rep:carol", "team:team-1"))),
                      str(draw(st.integers(1, 900_000))), day,
                      metric=draw(st.sampled_from(("revenue", "new_customers",
                                                   "coaching_minutes", "complaint_allowance"))))
    if kind == "coaching":
        return coaching(f"S{n}", day, "carol", *draw(st.sets(st.sampled_from(REPS), min_size=1)),
                        minutes=draw(st.integers(15, 240)))
    return sale_fact(draw, kind, n, day)


def sale_fact(draw: st.DrawFn, kind: str, n: int, day: str) -> dict[str, Any]:
    credits = draw(st.sampled_from(CREDITS))
    amount = str(draw(st.decimals(min_value=1, max_value=250_000, places=2)))
    if kind == "renewal":
        return renewal(f"R{n}", day, amount, *credits)
    if kind == "consumer":
        return deal(f"D{n}", day, amount, *credits, product_line="consumer",
                    units=draw(st.integers(1, 140)))
    return deal(f"D{n}", day, amount, *credits, new_customer=draw(st.booleans()))


def lifecycle_fact(draw: st.DrawFn, kind: str, day: str,
                   facts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A delivery of an undelivered deal, or a cancellation of a standing one (often a delivered
    one, whose delivery bonus then comes off too); None when there is none."""
    deals = deals_so_far(facts)
    if kind == "delivery":
        undelivered = [d for d, facts_of in deals if "deal.delivered" not in facts_of]
        return delivered(draw(st.sampled_from(undelivered)), day) if undelivered else None
    standing_deals = [(d, facts_of) for d, facts_of in deals if "deal.cancelled" not in facts_of]
    delivered_ones = [item for item in standing_deals if "deal.delivered" in item[1]]
    if delivered_ones and draw(st.booleans()):
        standing_deals = delivered_ones
    return cancelled(draw(st.sampled_from(standing_deals))[0], day) if standing_deals else None


def deals_so_far(facts: list[dict[str, Any]]) -> list[tuple[str, set[str]]]:
    """Each closed deal's id with the kinds of the facts naming it."""
    return [(f["data"]["deal_id"], {g["type"] for g in facts
                                    if g["data"].get("deal_id") == f["data"]["deal_id"]})
            for f in facts if f["type"] == "deal.closed"]


def full(view: LedgerView, plan: Plan) -> dict[str, tuple[Any, RunningTotals]]:
    book = CreditBook(view, plan)
    return {s.rep_id: (standing_of(s), running_totals(book, s))
            for s in calculate_many(view, plan, REPS)}


Moves = Iterator[tuple[str, RunningTotals | None]]  # (rep, its totals after the step, or None)


def stepped(totals: dict[str, RunningTotals], view: LedgerView, plan: Plan,
            raw: dict[str, Any], recomputed: dict[str, RunningTotals]) -> dict[str, RunningTotals]:
    """The totals after one more fact, by steps alone; a rep's `recomputed` totals where the
    step says it cannot apply the fact (a late sale or a cancellation reaching across a band, a
    complaint a clawback rule matches, a revision of the rep's own revenue target)."""
    after = dict(totals)
    steps = {"target.set": targets_moved, "coaching.session_held": coached,
             "deal.delivered": delivered_deal, "deal.cancelled": cancelled_deal,
             "complaint.logged": complained}
    for rep, moved in steps.get(raw["type"], sold)(after, view, plan, raw):
        after[rep] = moved if moved is not None else recomputed[rep]
    return after


def targets_moved(totals: dict[str, RunningTotals], view: LedgerView, plan: Plan,
                  raw: dict[str, Any]) -> Moves:
    for rep in REPS:
        moved = after_targets(totals[rep], plan, view, rep)
        if moved is None:
            assert raw["data"] == {**raw["data"], "scope": f"rep:{rep}", "metric": "revenue"}
        yield rep, moved


def coached(totals: dict[str, RunningTotals], view: LedgerView, plan: Plan,
            raw: dict[str, Any]) -> Moves:
    for rep in raw["data"]["rep_ids"]:
        yield rep, after_coaching(totals[rep], raw["data"]["minutes"])


def delivered_deal(totals: dict[str, RunningTotals], view: LedgerView, plan: Plan,
                   raw: dict[str, Any]) -> Moves:
    deal_of = {d.payload.deal_id: d for d in view.deals}[raw["data"]["deal_id"]]
    gone = any(c.payload.deal_id == deal_of.payload.deal_id and removes(plan, deal_of.day, c.day)
               for c in view.cancellations)
    for credit in deal_of.payload.credits:
        yield credit.rep_id, after_delivery(totals[credit.rep_id], plan, credit.rep_id,
                                            deal_of.payload, cancelled=gone)


def cancelled_deal(totals: dict[str, RunningTotals], view: LedgerView, plan: Plan,
                   raw: dict[str, Any]) -> Moves:
    gone = {d.payload.deal_id: d for d in view.deals}[raw["data"]["deal_id"]]
    named = gone.payload.deal_id
    for credit in gone.payload.credits:
        yield credit.rep_id, after_cancellation(
            totals[credit.rep_id], plan, credit.rep_id, gone, closed_here=True,
            delivered_here=any(d.payload.deal_id == named for d in view.deliveries),
            complained=any(c.payload.deal_id == named for c in view.complaints))


def complained(totals: dict[str, RunningTotals], view: LedgerView, plan: Plan,
               raw: dict[str, Any]) -> Moves:
    logged = next(c for c in view.complaints if c.event_id == raw["id"])
    rep = logged.payload.rep_id
    on = {d.payload.deal_id: d for d in view.deals}.get(logged.payload.deal_id or "")
    moved = after_complaint(totals[rep], plan, logged.payload, logged_here=True,
                            deal_age_days=(logged.day - on.day).days if on else None)
    if moved is None:
        assert on is not None
        assert logged.payload.category == "overpromised"
    yield rep, moved


def sold(totals: dict[str, RunningTotals], view: LedgerView, plan: Plan,
         raw: dict[str, Any]) -> Moves:
    recorded = next(f for f in (*view.deals, *view.renewals) if f.event_id == raw["id"])
    for credit in recorded.payload.credits:
        sale = Sale(recorded, recorded.payload.amount * credit.split)
        moved = after_sale(totals[credit.rep_id], plan, credit.rep_id, sale)
        if moved is None:
            last = totals[credit.rep_id].last
            assert last is not None
            assert recorded.order <= last, "only a late sale is refused"
        yield credit.rep_id, moved


@given(facts=later_facts(), renewals_count=st.booleans())
@settings(max_examples=150, deadline=None)
def test_stepping_the_totals_gives_what_recomputing_the_statement_gives(
        facts: list[dict[str, Any]], renewals_count: bool) -> None:
    plan = plan_with(renewals_count)
    recorded = list(BASE)
    totals = {rep: t for rep, (_, t) in full(view_of("2026-Q3", *recorded), plan).items()}
    for raw in facts:
        recorded.append(raw)
        view = view_of("2026-Q3", *recorded)
        expected = full(view, plan)
        totals = stepped(totals, view, plan, raw, {rep: t for rep, (_, t) in expected.items()})
        teams = {"team-1": ("alice", "bob"), "team-2": ("carol",)}
        for rep in REPS:
            team = teams["team-1" if rep != "carol" else "team-2"]
            team_revenue = sum((totals[m].credited for m in team), Decimal(0))
            assert standing(totals[rep], plan, team_revenue) == expected[rep][0], (rep, raw["id"])
            assert totals[rep] == expected[rep][1], (rep, raw["id"])


def late(counted: tuple[str, str], arriving: tuple[str, str]) -> tuple[Any, Any, Any]:
    """alice's totals with deal D1 (day, amount) counted, deal D0 (day, amount) arriving after
    it, and what recomputing with both gives."""
    plan = plan_with(False)
    before = view_of("2026-Q3", *BASE, deal("D1", *counted))
    after = view_of("2026-Q3", *BASE, deal("D1", *counted), deal("D0", *arriving))
    arrived = next(d for d in after.deals if d.event_id == "crm-D0")
    stepped = after_sale(full(before, plan)["alice"][1], plan, "alice",
                         Sale(arrived, Decimal(arriving[1])))
    return stepped, full(after, plan)["alice"][1], plan


def test_a_late_sale_within_the_band_of_the_latest_sales_is_a_step() -> None:
    # alice's target 400,000: bands up to 200,000 / 400,000 / above.
    stepped, recomputed, _ = late(("2026-08-10", "1000"), ("2026-08-09", "1000"))

    assert stepped is not None
    assert stepped == recomputed


def test_a_late_sale_reaching_across_a_band_is_not_a_step() -> None:
    crossing, _, _ = late(("2026-08-10", "199500"), ("2026-08-09", "1000"))
    below, _, _ = late(("2026-08-10", "250000"), ("2026-08-09", "1000"))

    assert crossing is None, "D1 would then cross 200,000: its lines move"
    assert below is None, "D0 starts below the band D1 reached: D1's lines move"


def test_cancelling_a_delivered_deal_takes_its_bonus_off_with_it() -> None:
    plan = plan_with(False)
    sales = (deal("D1", "2026-07-10", "1000"), deal("D2", "2026-08-10", "2000"),
             delivered("D1", "2026-07-20"))
    before = view_of("2026-Q3", *BASE, *sales)
    after = view_of("2026-Q3", *BASE, *sales, cancelled("D1", "2026-08-15"))
    gone = next(d for d in after.deals if d.payload.deal_id == "D1")

    stepped = after_cancellation(full(before, plan)["alice"][1], plan, "alice", gone,
                                 closed_here=True, delivered_here=True, complained=False)

    assert stepped == full(after, plan)["alice"][1]
    assert stepped.lines == full(before, plan)["alice"][1].lines - Decimal("40.00") - Decimal(
        "20.00"), "4 % commission and the 2 % delivery bonus on 1,000 come off"


def test_totals_survive_their_stored_form() -> None:
    plan = plan_with(True)
    view = view_of("2026-Q3", *BASE, deal("D1", "2026-08-10", "1000.50", units=0),
                   renewal("R1", "2026-08-11", "99.99", *CREDITS[2]))
    for _, totals in full(view, plan).values():
        assert RunningTotals.from_json(totals.to_json()) == totals
