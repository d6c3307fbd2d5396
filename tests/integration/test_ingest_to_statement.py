"""From inbound lines to live statements, through the wired system, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from domain.intake import Incoming
from domain.periods import Period
from perfledger.settings import Settings
from perfledger.simulation import simulate
from perfledger.wiring import System
from projections.queries import stored_rejects
from projections.tables import facts, live_statements, stale_statements
from tests.builders import PLAN_YAML, deal, event, target
from tests.integration.read_models import count_rows, dump_read_models, incoming, sample_plan

pytestmark = pytest.mark.integration

QUARTER = "2026-Q3"
SEED = 5
CENT = Decimal("0.01")


@pytest.fixture
def system(database_url: str) -> Iterator[System]:
    """The wired ledger on a fresh store."""
    built = System(Settings(database_url=database_url))
    yield built
    built.close()


@pytest.fixture
def simulated_quarter(system: System) -> list[dict[str, Any]]:
    """The sample plan published and a simulated 2026-Q3 of 12 reps ingested."""
    system.ledger.publish_plan(sample_plan())
    events = list(simulate(QUARTER, reps=12, seed=SEED))
    report = system.ingest(incoming(events, "simulated"))
    assert (len(report.accepted), report.duplicates, len(report.rejected)) == (len(events), 0, 0)
    return events


def live_rows(system: System) -> dict[tuple[str, str], Any]:
    """The live statements read model, by (rep, period)."""
    with system.engine.connect() as conn:
        return {(row.rep_id, row.period): row for row in conn.execute(select(live_statements))}


def statement_json(system: System, rep_id: str, period: str) -> str:
    """A statement computed now from the facts, serialised as the read model stores it."""
    fresh = system.statement(Period.parse(period), rep_id)
    return orjson.dumps(fresh.to_json(), option=orjson.OPT_SORT_KEYS).decode()


def assert_live_statements_are_current(system: System) -> dict[tuple[str, str], Any]:
    """Every stored live statement equals one computed afresh, and none is left stale."""
    rows = live_rows(system)
    assert rows
    for (rep_id, period), row in rows.items():
        fresh = orjson.loads(statement_json(system, rep_id, period))
        assert orjson.loads(row.statement) == fresh, (rep_id, period)
        assert (row.total, row.credited_revenue, row.fingerprint) == (
            fresh["total"], fresh["credited_revenue"], fresh["fingerprint"]), (rep_id, period)
    assert count_rows(system.engine, stale_statements) == 0
    return rows


def split_of(closed: dict[str, Any], rep_id: str) -> Decimal:
    return next(Decimal(c["split"]) for c in closed["data"]["credits"] if c["rep_id"] == rep_id)


def test_every_live_statement_equals_a_fresh_computation(
        system: System, simulated_quarter: list[dict[str, Any]]) -> None:
    """After ingesting a quarter, each rep has a live statement for the quarter, and every live
    statement equals what the engine computes from the facts now."""
    reps = {e["data"]["rep_id"] for e in simulated_quarter if e["type"] == "roster.assigned"}
    cancelled = {e["data"]["deal_id"] for e in simulated_quarter if e["type"] == "deal.cancelled"}
    # Splits sum to 1 and every cancellation falls within the 180-day window: the reps'
    # credited revenue adds up to the amounts of the deals that were not cancelled.
    closed = sum(Decimal(e["data"]["amount"]) for e in simulated_quarter
                 if e["type"] == "deal.closed" and e["data"]["deal_id"] not in cancelled)

    rows = assert_live_statements_are_current(system)

    assert len(reps) == 12
    assert {rep for rep, period in rows if period == QUARTER} == reps
    assert sum(Decimal(row.credited_revenue) for (_, period), row in rows.items()
               if period == QUARTER) == closed


def test_a_late_cancellation_changes_the_live_statement(
        system: System, simulated_quarter: list[dict[str, Any]]) -> None:
    """A shared Q3 deal cancelled in Q4 leaves every credited rep's Q3 credited revenue short by
    exactly their share, and the live statements follow (team members' included)."""
    settled = {e["data"]["deal_id"] for e in simulated_quarter
               if e["type"] in ("deal.cancelled", "deal.delivered")}
    shared = next(e for e in simulated_quarter if e["type"] == "deal.closed"
                  and len(e["data"]["credits"]) > 1 and e["data"]["deal_id"] not in settled)
    deal_id, amount = shared["data"]["deal_id"], Decimal(shared["data"]["amount"])
    credited = [c["rep_id"] for c in shared["data"]["credits"]]
    owner = next(c["rep_id"] for c in shared["data"]["credits"] if c["role"] == "owner")
    before = live_rows(system)

    report = system.ingest(incoming([event(
        "deal.cancelled", f"late-cancel-{deal_id}", "2026-10-02T09:00:00Z",
        {"deal_id": deal_id, "reason": "churn"})]))

    assert (len(report.accepted), len(report.rejected)) == (1, 0)
    after = assert_live_statements_are_current(system)
    for rep in credited:
        lost = Decimal(before[rep, QUARTER].credited_revenue) - Decimal(
            after[rep, QUARTER].credited_revenue)
        assert lost == amount * split_of(shared, rep), rep
    assert Decimal(after[owner, QUARTER].total) < Decimal(before[owner, QUARTER].total)


def test_a_target_revision_changes_the_live_statement(
        system: System, simulated_quarter: list[dict[str, Any]]) -> None:
    """Halving a rep's revenue target from 2026-09-01 (the last 30 of 92 days) prorates to
    (T x 62 + T/2 x 30) / 92, and the live statement follows."""
    decisions: dict[str, list[dict[str, Any]]] = {}
    for e in simulated_quarter:
        if e["type"] == "target.set" and e["data"]["metric"] == "revenue" \
                and e["data"]["scope"].startswith("rep:"):
            decisions.setdefault(e["data"]["scope"], []).append(e["data"])
    scope, (annual,) = next((s, d) for s, d in sorted(decisions.items()) if len(d) == 1)
    rep = scope.removeprefix("rep:")
    value = Decimal(annual["value"])
    assert annual.get("effective_from", "2026-07-01") == "2026-07-01"
    expected = ((value * 62 + value / 2 * 30) / 92).quantize(CENT, rounding=ROUND_HALF_UP)
    before = live_rows(system)[rep, QUARTER]

    report = system.ingest(incoming([target(scope, str(value / 2), "2026-09-01",
                                            event_id=f"revision-{rep}")]))

    assert (len(report.accepted), len(report.rejected)) == (1, 0)
    after = assert_live_statements_are_current(system)[rep, QUARTER]
    assert Decimal(before.revenue_target) == value
    assert Decimal(after.revenue_target) == expected
    assert Decimal(after.attainment) == (Decimal(after.credited_revenue) / expected).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP)
    assert after.fingerprint != before.fingerprint


DELIVERY_PLAN = PLAN_YAML.format(proration="time_weighted") + 'delivery_bonus: {rate: "0.02"}\n'


def delivery(deal_id: str, day: str) -> dict[str, Any]:
    return event("deal.delivered", f"delivered-{deal_id}", f"{day}T10:00:00Z", {"deal_id": deal_id})


def test_a_lifecycle_fact_before_its_deal_is_rejected(system: System) -> None:
    """A delivery or cancellation of a deal not yet closed is rejected naming `data.deal_id`;
    once the deal is closed the same delivery is accepted and pays its bonus."""
    system.ledger.publish_plan(DELIVERY_PLAN)

    first = system.ingest(incoming([target("rep:alice", "200000.00"),
                                    delivery("D7", "2026-08-01"),
                                    deal("D7", "2026-07-15", "50000.00")]))
    orphan = system.ingest(incoming([event("deal.cancelled", "cancel-D8", "2026-08-02T10:00:00Z",
                                           {"deal_id": "D8", "reason": "refund"})]))
    without = system.statement(Period.parse(QUARTER), "alice")
    retried = system.ingest(incoming([delivery("D7", "2026-08-01")]))
    with_bonus = system.statement(Period.parse(QUARTER), "alice")

    assert (len(first.accepted), first.duplicates, len(first.rejected)) == (2, 0, 1)
    assert first.rejected[0].reason.startswith("data.deal_id: ")
    assert "D7" in first.rejected[0].reason
    assert [r.reason.split(":")[0] for r in orphan.rejected] == ["data.deal_id"]
    assert "D8" in orphan.rejected[0].reason
    assert [line.kind for line in without.lines] == ["commission"]
    assert (len(retried.accepted), len(retried.rejected)) == (1, 0)
    bonus = [line for line in with_bonus.lines if line.kind == "delivery_bonus"]
    assert [(b.deal_id, b.event_id, b.amount) for b in bonus] == [
        ("D7", "delivered-D7", Decimal("1000.00"))]
    assert_live_statements_are_current(system)


def test_duplicates_are_dropped_and_conflicts_rejected(system: System) -> None:
    """The same key with the same content is a duplicate and changes nothing; the same key with
    other content, or a second close of one deal, is rejected and never applied."""
    system.ledger.publish_plan(DELIVERY_PLAN)
    batch = [target("rep:alice", "200000.00"), deal("D1", "2026-07-10", "80000.00"),
             deal("D2", "2026-08-05", "60000.00"), delivery("D1", "2026-08-01")]

    first = system.ingest(incoming([*batch, batch[1]]))
    before = dump_read_models(system.engine)
    again = system.ingest(incoming(batch))
    unchanged = dump_read_models(system.engine)
    conflicts = system.ingest(incoming([
        deal("D1", "2026-07-10", "85000.00"),                       # crm-D1, other content
        {**deal("D2", "2026-08-05", "60000.00"), "id": "crm-D2-again"},  # D2 closed twice
        event("deal.delivered", "delivered-D1-again", "2026-08-02T10:00:00Z", {"deal_id": "D1"}),
    ]))

    assert (len(first.accepted), first.duplicates, len(first.rejected)) == (4, 1, 0)
    assert (len(again.accepted), again.duplicates, len(again.rejected)) == (0, 4, 0)
    assert unchanged == before
    assert (len(conflicts.accepted), conflicts.duplicates) == (0, 0)
    reasons = [r.reason for r in conflicts.rejected]
    assert reasons[0].startswith("id: crm/crm-D1 ")
    assert reasons[1].startswith("data.deal_id: deal D2 ")
    assert reasons[2].startswith("data.deal_id: deal D1 ")
    assert count_rows(system.engine, facts) == 4
    shown = system.statement(Period.parse(QUARTER), "alice")
    assert shown.credited_revenue == Decimal("140000.00")
    assert_live_statements_are_current(system)


REJECTED_LINES: list[tuple[bytes, str]] = [
    (b'{"specversion": "1.0", "id": "caf\xc3\xa9', "json"),
    (b'  {"specversion":"1.0","id":"r2","source":"crm","type":"deal.closed",'
     b'"time":"2026-07-10T12:00:00Z","data":{"deal_id":"R2","customer_id":"\xe6\x97\xa5\xe6\x9c\xac",'
     b'"product_line":"enterprise","amount":"-1.00","currency":"USD",'
     b'"credits":[{"rep_id":"alice","role":"owner","split":"1"}]}}\t', "data.amount"),
    (orjson.dumps(deal("R3", "2026-07-11", "100.00", ("alice", "owner", "0.6"),
                       ("bob", "presales", "0.3")), option=orjson.OPT_INDENT_2).replace(b"\n", b" "),
     "data.credits"),
    (orjson.dumps({**deal("R4", "2026-07-12", "100.00"), "type": "deal.won"}), "type"),
    (orjson.dumps(deal("R5", "2026-07-13", "100.00", currency="EUR")), "data.currency"),
    (orjson.dumps({**deal("R6", "2026-07-14", "100.00"), "time": "2026-07-14T12:00:00"}), "time"),
    (b'["an", "array"]', "event"),
]


def test_rejects_are_kept_verbatim_with_the_reason(system: System) -> None:
    """Each rejected line is stored exactly as received, byte for byte, with its origin and a
    reason that starts with the field at fault; nothing of it is applied."""
    lines = [Incoming(raw, f"feed.jsonl:{n}") for n, (raw, _) in enumerate(REJECTED_LINES, 1)]

    report = system.ingest(lines)
    system.runner.catch_up()
    with system.engine.connect() as conn:
        stored = stored_rejects(conn)

    assert (len(report.accepted), report.duplicates) == (0, 0)
    assert [(r.raw.encode(), r.reason.split(": ")[0], r.origin) for r in report.rejected] == [
        (raw, field, f"feed.jsonl:{n}") for n, (raw, field) in enumerate(REJECTED_LINES, 1)]
    assert sorted((row["raw"].encode(), row["reason"], row["line"]) for row in stored) == sorted(
        (r.raw.encode(), r.reason, r.origin) for r in report.rejected)
    assert count_rows(system.engine, facts) == 0


@pytest.mark.timeout(120)
def test_a_batch_too_large_for_one_transaction_is_recorded_in_halves(system: System) -> None:
    """A batch whose events pass the per-transaction limit is recorded in halves, one after the
    other: a delivery in the second half finds its deal closed in the first, a repeat of the
    close is a duplicate, and every one of 600 rejected lines of 20 KB is kept (12 MB in one
    insert once hung PostgreSQL's store for good)."""
    system.ledger.publish_plan(DELIVERY_PLAN)
    junk = [Incoming(f'{{"junk": "{n:04d}{"x" * 20_000}"}}'.encode(), f"junk:{n}")
            for n in range(600)]
    opening = incoming([target("rep:alice", "200000.00"), deal("D1", "2026-07-10", "80000.00")])
    closing = incoming([delivery("D1", "2026-08-01"), deal("D1", "2026-07-10", "80000.00")])

    report = system.ledger.record_facts([*opening, *junk, *closing])
    system.runner.catch_up()

    assert (len(report.accepted), report.duplicates, len(report.rejected)) == (3, 1, 600)
    assert report.accepted[-1] == "crm/delivered-D1"
    with system.engine.connect() as conn:
        stored = stored_rejects(conn)
    assert sorted(row["raw"] for row in stored) == sorted(line.text() for line in junk)
    assert count_rows(system.engine, facts) == 3
    shown = system.statement(Period.parse(QUARTER), "alice")
    assert shown.credited_revenue == Decimal("80000.00")
    assert [line.kind for line in shown.lines].count("delivery_bonus") == 1
    assert_live_statements_are_current(system)
