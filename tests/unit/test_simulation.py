"""The simulated sales period: deterministic, well-formed and ingestible in one pass."""

from __future__ import annotations

import json
import re
from calendar import monthrange
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfledger.simulation import simulate

MONEY = re.compile(r"^[0-9]+\.[0-9]{2}$")
TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

SOURCES = {
    "roster.assigned": "salesops",
    "target.set": "salesops",
    "deal.closed": "crm",
    "deal.delivered": "crm",
    "deal.cancelled": "crm",
    "renewal.booked": "billing",
    "complaint.logged": "support",
    "coaching.session_held": "lms",
}
# type -> (required data fields, optional data fields)
FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "roster.assigned": ({"rep_id", "team_id", "effective_from"}, set()),
    "target.set": (
        {"scope", "metric", "period", "value", "effective_from", "reason", "approved_by"},
        set(),
    ),
    "deal.closed": (
        {
            "deal_id",
            "customer_id",
            "product_line",
            "amount",
            "currency",
            "new_customer",
            "units",
            "credits",
        },
        {"segment"},
    ),
    "deal.delivered": ({"deal_id"}, set()),
    "deal.cancelled": ({"deal_id", "reason"}, set()),
    "renewal.booked": (
        {"renewal_id", "customer_id", "amount", "currency", "term_months", "credits"},
        {"deal_id"},
    ),
    "complaint.logged": (
        {"complaint_id", "customer_id", "rep_id", "severity", "category"},
        {"deal_id"},
    ),
    "coaching.session_held": ({"session_id", "coach_id", "rep_ids", "topic", "minutes"}, set()),
}
DECISIONS = {"roster.assigned", "target.set"}
METRICS = {"revenue", "new_customers", "renewals", "coaching_minutes", "complaint_allowance"}


def days_of(period: str) -> tuple[date, date]:
    year_text, part = period.split("-")
    year = int(year_text)
    if part.startswith("Q"):
        first_month = 3 * (int(part[1]) - 1) + 1
        last_month = first_month + 2
    else:
        first_month = last_month = int(part)
    return date(year, first_month, 1), date(year, last_month, monthrange(year, last_month)[1])


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def check_money(value: Any) -> Decimal:
    assert isinstance(value, str)
    assert MONEY.match(value), value
    amount = Decimal(value)
    assert amount > 0
    return amount


def check_credits(credits: Any) -> None:
    assert isinstance(credits, list)
    assert credits
    assert sum(1 for credit in credits if credit["role"] == "owner") == 1
    assert credits[0]["role"] == "owner"
    assert len({credit["rep_id"] for credit in credits}) == len(credits)
    total = Decimal(0)
    for credit in credits:
        assert set(credit) == {"rep_id", "role", "split"}
        assert credit["role"] in {"owner", "presales", "aftersales", "partner"}
        assert isinstance(credit["split"], str)
        split = Decimal(credit["split"])
        assert Decimal(0) < split <= 1
        assert len(credit["split"]) <= 4, credit["split"]  # "0.25", never "0.33333"
        total += split
    assert total == Decimal(1)


def check_event(event: dict[str, Any]) -> None:
    assert set(event) == {"specversion", "id", "source", "type", "time", "data"}
    assert event["specversion"] == "1.0"
    assert event["source"] == SOURCES[event["type"]]
    assert TIME.match(event["time"]), event["time"]
    data = event["data"]
    required, optional = FIELDS[event["type"]]
    assert required <= set(data) <= required | optional, (event["type"], sorted(data))
    kind = event["type"]
    if kind == "target.set":
        assert data["metric"] in METRICS
        assert data["scope"] == "org" or data["scope"].split(":")[0] in {"rep", "team"}
        assert DAY.match(data["effective_from"])
        assert data["approved_by"] == "vp-sales"
        if data["metric"] == "revenue":
            check_money(data["value"])
        else:
            assert data["value"].isdigit()
            assert int(data["value"]) > 0
    elif kind == "roster.assigned":
        assert DAY.match(data["effective_from"])
        assert re.match(r"^rep-[0-9]{4,}$", data["rep_id"])
        assert re.match(r"^team-[0-9]{2,}$", data["team_id"])
    elif kind in {"deal.closed", "renewal.booked"}:
        check_money(data["amount"])
        assert data["currency"] == "USD"
        check_credits(data["credits"])
        if kind == "renewal.booked":
            assert data["term_months"] in {12, 24, 36}
            assert [credit["split"] for credit in data["credits"]] == ["1"]
        elif data["product_line"] == "enterprise":
            assert Decimal(10_000) <= Decimal(data["amount"]) <= Decimal(250_000)
            assert data["units"] == 0
        else:
            assert data["product_line"] == "consumer"
            assert Decimal(50) <= Decimal(data["amount"]) <= Decimal(5_000)
            assert 1 <= data["units"] <= 500
            assert [credit["split"] for credit in data["credits"]] == ["1"]
        if kind == "deal.closed":
            assert isinstance(data["new_customer"], bool)
    elif kind == "deal.cancelled":
        assert data["reason"] in {"refund", "churn"}
    elif kind == "complaint.logged":
        assert data["severity"] in {"low", "medium", "high"}
        assert data["category"] in {"overpromised", "late delivery", "billing", "support"}
    elif kind == "coaching.session_held":
        assert 1 <= len(data["rep_ids"]) <= 3
        assert data["coach_id"] not in data["rep_ids"]
        assert 15 <= data["minutes"] <= 120


def check_stream(events: list[dict[str, Any]], first: date, last: date) -> None:
    """Well-formed, unique, in time order, inside the period, lifecycle after the deal."""
    keys = [(event["source"], event["id"]) for event in events]
    assert len(set(keys)) == len(keys)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    previous = start
    closed: dict[str, dict[str, Any]] = {}
    delivered: set[str] = set()
    cancelled: set[str] = set()
    seen_fact = False
    for event in events:
        check_event(event)
        time = moment(event["time"])
        assert first <= time.date() <= last, event["time"]
        assert time >= previous, "events are not in business-time order"
        previous = time
        kind, data = event["type"], event["data"]
        if kind == "roster.assigned":
            assert not seen_fact, "the roster comes before every fact"
        seen_fact = seen_fact or kind not in DECISIONS
        if kind == "deal.closed":
            assert data["deal_id"] not in closed
            closed[data["deal_id"]] = {"time": time, **data}
        elif kind in {"deal.delivered", "deal.cancelled"}:
            deal = closed[data["deal_id"]]  # a lifecycle fact follows its deal in output order
            assert time > deal["time"]
            if kind == "deal.delivered":
                assert deal["product_line"] == "enterprise"
                assert data["deal_id"] not in delivered
                assert data["deal_id"] not in cancelled
                delivered.add(data["deal_id"])
            else:
                assert data["deal_id"] not in cancelled
                cancelled.add(data["deal_id"])
        elif kind == "complaint.logged" and "deal_id" in data:
            deal = closed[data["deal_id"]]
            assert time > deal["time"]
            assert data["rep_id"] == deal["credits"][0]["rep_id"]
            assert data["customer_id"] == deal["customer_id"]
        elif kind == "renewal.booked" and "deal_id" in data:
            assert closed[data["deal_id"]]["time"] < time


@pytest.fixture(scope="module")
def quarter() -> list[dict[str, Any]]:
    return list(simulate("2026-Q3", reps=24, seed=7))


def test_same_arguments_give_the_same_events() -> None:
    first = list(simulate("2026-Q3", reps=10, seed=3))
    again = list(simulate("2026-Q3", reps=10, seed=3))
    assert json.dumps(first) == json.dumps(again)


def test_another_seed_gives_other_events() -> None:
    one = list(simulate("2026-Q3", reps=10, seed=3))
    other = list(simulate("2026-Q3", reps=10, seed=4))
    assert [event["data"] for event in one] != [event["data"] for event in other]
    assert one[0]["id"] == "sim-2026-Q3-3-0000001"
    assert other[0]["id"] == "sim-2026-Q3-4-0000001"


def test_simulate_streams_lazily() -> None:
    stream = simulate("2026-Q3", reps=5, seed=1)
    assert iter(stream) is stream
    assert next(stream)["type"] == "roster.assigned"


def test_every_event_is_well_formed_and_in_order(quarter: list[dict[str, Any]]) -> None:
    check_stream(quarter, date(2026, 7, 1), date(2026, 9, 30))
    assert [event["id"] for event in quarter[:2]] == ["sim-2026-Q3-7-0000001", "sim-2026-Q3-7-0000002"]
    json.dumps(quarter)  # plain JSON values only


def test_default_size_is_about_a_hundred_events_per_rep_a_quarter(
    quarter: list[dict[str, Any]],
) -> None:
    assert len(quarter) == 2400
    month = list(simulate("2026-02", reps=10, seed=7))
    assert len(month) == 350
    check_stream(month, date(2026, 2, 1), date(2026, 2, 28))
    assert {e["data"]["period"] for e in month if e["type"] == "target.set"} == {"2026-02"}


def test_roster_then_plan_targets_come_first(quarter: list[dict[str, Any]]) -> None:
    roster = quarter[:24]
    assert [event["type"] for event in roster] == ["roster.assigned"] * 24
    assert [event["data"]["rep_id"] for event in roster] == [
        f"rep-{number:04d}" for number in range(1, 25)
    ]
    assert {event["data"]["effective_from"] for event in roster} == {"2026-07-01"}
    team_sizes = Counter(event["data"]["team_id"] for event in roster)
    assert sorted(team_sizes) == ["team-01", "team-02", "team-03"]
    assert set(team_sizes.values()) == {8}

    plan = []
    for event in quarter[24:]:
        if event["type"] != "target.set":
            break
        plan.append(event["data"])
    assert {target["reason"] for target in plan} == {"annual plan"}
    assert {target["effective_from"] for target in plan} == {"2026-07-01"}
    for number in range(1, 25):
        metrics = {t["metric"] for t in plan if t["scope"] == f"rep:rep-{number:04d}"}
        assert {"revenue", "new_customers", "coaching_minutes"} <= metrics
    assert any(target["metric"] == "complaint_allowance" for target in plan)
    assert [t["scope"] for t in plan if t["scope"] == "org"] == ["org"]
    assert sum(1 for t in plan if t["scope"].startswith("team:")) >= 2
    revenue = [Decimal(t["value"]) for t in plan if t["metric"] == "revenue"]
    assert all(Decimal(20_000) <= value for value in revenue)


def test_a_mid_period_revision_lowers_some_revenue_targets(
    quarter: list[dict[str, Any]],
) -> None:
    first_value: dict[str, Decimal] = {}
    revisions = []
    for event in quarter:
        data = event["data"]
        if event["type"] != "target.set" or data["metric"] != "revenue":
            continue
        if data["scope"] not in first_value:
            first_value[data["scope"]] = Decimal(data["value"])
            continue
        revisions.append(event)
        assert data["reason"] == "competitor price cut"
        assert data["period"] == "2026-Q3"
        assert date(2026, 7, 1) < date.fromisoformat(data["effective_from"]) <= date(2026, 9, 30)
        assert moment(event["time"]).date() == date.fromisoformat(data["effective_from"])
        assert Decimal(data["value"]) < first_value[data["scope"]]
    assert 1 <= len(revisions) <= 5
    # Facts are recorded on both sides of the revision.
    index = quarter.index(revisions[0])
    assert any(event["type"] == "deal.closed" for event in quarter[:index])
    assert any(event["type"] == "deal.closed" for event in quarter[index:])


def test_a_single_rep_still_gets_a_revision() -> None:
    events = list(simulate("2026-04", reps=1, seed=0))
    revisions = [e for e in events if e["data"].get("reason") == "competitor price cut"]
    assert len(revisions) == 1
    check_stream(events, date(2026, 4, 1), date(2026, 4, 30))


def test_the_fact_mix_covers_every_type(quarter: list[dict[str, Any]]) -> None:
    kinds = Counter(event["type"] for event in quarter)
    assert set(kinds) == set(SOURCES)
    lines = Counter(e["data"]["product_line"] for e in quarter if e["type"] == "deal.closed")
    assert lines["enterprise"] > 0
    assert lines["consumer"] > lines["enterprise"]
    enterprise = [
        e["data"]
        for e in quarter
        if e["type"] == "deal.closed" and e["data"]["product_line"] == "enterprise"
    ]
    assert any(len(deal["credits"]) == 3 for deal in enterprise)
    team_of = {e["data"]["rep_id"]: e["data"]["team_id"] for e in quarter[:24]}
    for deal in enterprise:  # presales and aftersales help deals of their own team
        assert len({team_of[credit["rep_id"]] for credit in deal["credits"]}) == 1
    assert any(deal["new_customer"] for deal in enterprise)
    assert any(not deal["new_customer"] for deal in enterprise)
    complaints = [e["data"] for e in quarter if e["type"] == "complaint.logged"]
    assert sum(1 for complaint in complaints if "deal_id" in complaint) > len(complaints) / 2


@pytest.mark.parametrize("total", [1234, 3000, 7001])
def test_events_gives_the_exact_count(total: int) -> None:
    events = list(simulate("2026-Q3", reps=10, seed=11, events=total))
    assert len(events) == total
    check_stream(events, date(2026, 7, 1), date(2026, 9, 30))


def test_events_down_to_the_decisions_alone() -> None:
    default = list(simulate("2026-Q3", reps=6, seed=5))
    decisions = sum(1 for event in default if event["type"] in DECISIONS)
    only = list(simulate("2026-Q3", reps=6, seed=5, events=decisions))
    assert len(only) == decisions
    assert {event["type"] for event in only} == DECISIONS
    plus_one = list(simulate("2026-Q3", reps=6, seed=5, events=decisions + 1))
    assert len(plus_one) == decisions + 1
    with pytest.raises(ValueError, match="events"):
        simulate("2026-Q3", reps=6, seed=5, events=decisions - 1)


@pytest.mark.parametrize(
    "period", ["2026-Q5", "2026-Q0", "2026-13", "2026-00", "26-Q1", "2026Q3", "", "2026-7", "Q3"]
)
def test_a_bad_period_is_refused(period: str) -> None:
    with pytest.raises(ValueError, match="period"):
        list(simulate(period, reps=3, seed=1))


def test_bad_reps_are_refused() -> None:
    with pytest.raises(ValueError, match="reps"):
        simulate("2026-Q3", reps=0, seed=1)


def test_events_decode_as_the_ledger_reads_them(quarter: list[dict[str, Any]]) -> None:
    envelope = pytest.importorskip("domain.envelope")
    for event in quarter:
        envelope.decode_event(event)


@settings(max_examples=15, deadline=None, database=None)
@given(
    period=st.sampled_from(["2026-Q1", "2026-Q3", "2026-02", "2028-02", "2026-12"]),
    reps=st.integers(min_value=1, max_value=12),
    seed=st.integers(min_value=-(10**6), max_value=10**6),
    extra=st.integers(min_value=0, max_value=400),
)
def test_any_small_simulation_is_exact_and_consistent(
    period: str, reps: int, seed: int, extra: int
) -> None:
    default = simulate(period, reps, seed)
    decisions = sum(1 for event in default if event["type"] in DECISIONS)
    events = list(simulate(period, reps, seed, events=decisions + extra))
    assert len(events) == decisions + extra
    check_stream(events, *days_of(period))
