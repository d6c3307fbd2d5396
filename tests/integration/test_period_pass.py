"""A whole period stated by several processes gives the same statements, byte for byte, as one
process does, and every group reads the ledger as it stood when the pass began."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from domain.periods import Period
from perfledger.audit import replay
from perfledger.period_pass import period_pass
from perfledger.settings import Settings
from perfledger.simulation import simulate
from perfledger.wiring import System, utc_now
from tests.builders import (
    cancelled,
    complaint,
    deal,
    delivered,
    lines_of,
    roster,
    statement_bytes,
    target,
)
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

QUARTER = Period.parse("2026-Q3")
REPS = 130  # many groups of a team or two each
PLAN = (ROOT / "perfledger/samples/plan.yaml").read_text()
RICHER_PLAN = PLAN.replace("version: 1", "version: 2", 1).replace('rate: "0.08"', 'rate: "0.1"', 1)


@pytest.fixture
def system(database_url: str) -> Iterator[System]:
    """A store holding a simulated quarter of 130 reps, stated by one process."""
    system = System(Settings(database_url=database_url, statement_processes=1))
    system.ledger.publish_plan(PLAN)
    events = list(simulate(QUARTER.name, reps=REPS, seed=5, events=6_000))
    system.ingest(lines_of(*events))
    yield system
    system.close()


def test_several_processes_state_a_period_as_one_does(system: System) -> None:
    with system.engine.connect() as conn:
        _, groups = period_pass(conn, QUARTER, system.plan_for(QUARTER), None)
    assert len(groups) > 3
    alone = system.period_statements(QUARTER)
    one_replay = replay(system, QUARTER, RICHER_PLAN, lines=True, apply=False)

    spread = System(Settings(database_url=system.settings.database_url, statement_processes=3))
    try:
        together = spread.period_statements(QUARTER)
        assert [statement_bytes(s) for s in together] == [statement_bytes(s) for s in alone]
        assert len(together) >= REPS
        assert orjson.dumps(replay(spread, QUARTER, RICHER_PLAN, lines=True, apply=False)) == \
            orjson.dumps(one_replay)
    finally:
        spread.close()
    assert one_replay["totals"]["delta"] != "0.00"


def test_a_pass_reads_the_ledger_as_it_stood_when_it_began(system: System) -> None:
    before = {s.rep_id: s.total for s in system.period_statements(QUARTER)}
    with system.engine.connect() as conn:
        shared, groups = period_pass(conn, QUARTER, system.plan_for(QUARTER), None)
    later = [event for event in simulate(QUARTER.name, reps=REPS, seed=6, events=3_000)
             if event["type"] == "deal.closed"]
    system.ingest(lines_of(*[{**event, "id": f"later-{event['id']}"} for event in later]))
    with system.engine.connect() as conn:
        stated = {s.rep_id: s.total for group in groups for s in shared.state(conn, group)}
    assert stated == before
    after = {s.rep_id: s.total for s in system.period_statements(QUARTER)}
    assert after != before


def test_a_pass_states_the_reps_the_period_names_as_known(database_url: str) -> None:
    system = System(Settings(database_url=database_url, statement_processes=1))
    try:
        system.ledger.publish_plan(PLAN)
        system.ingest(lines_of(
            roster("alice", "east"), roster("bob", "east"), roster("dave", "west"),
            deal("D1", "2026-07-10", "1000.00"),
            deal("D2", "2026-10-05", "500.00", ("bob", "owner", "1")),  # the next quarter
            deal("D3", "2026-06-20", "700.00", ("carol", "owner", "1")),  # the one before
            target("rep:dave", "9000.00")))
        known = utc_now()
        system.ingest(lines_of(deal("D4", "2026-08-01", "300.00", ("erin", "owner", "1"))))
        with system.engine.connect() as conn:
            plan = system.plan_for(QUARTER)
            _, now = period_pass(conn, QUARTER, plan, None)
            _, then = period_pass(conn, QUARTER, plan, known)
        assert sorted(rep for group in now for rep in group) == ["alice", "dave", "erin"]
        assert sorted(rep for group in then for rep in group) == ["alice", "dave"]
    finally:
        system.close()


def test_a_pass_finds_each_reps_deliveries_as_a_statement_of_its_own_does(
        system: System) -> None:
    """A pass reads the period's delivered deals once, where a single statement looks them up
    from the rep's deals: deliveries of deals closed in the quarter before, and deliveries
    recorded after `known_at`, count (or not) alike."""
    system.ingest(lines_of(
        roster("rep-0001", "team-x"), roster("rep-0002", "team-x"),
        deal("OLD-1", "2026-06-20", "4000.00", ("rep-0001", "owner", "0.5"),
             ("rep-0002", "presales", "0.5")),
        delivered("OLD-1", "2026-07-15"),
        deal("NEW-1", "2026-07-02", "2500.00", ("rep-0002", "owner", "1"))))
    known = utc_now()
    system.ingest(lines_of(delivered("NEW-1", "2026-08-01"),
                           deal("OLD-2", "2026-05-02", "900.00", ("rep-0001", "owner", "1")),
                           delivered("OLD-2", "2026-07-20")))
    for as_known in (None, known):
        stated = system.period_statements(QUARTER, known_at=as_known)
        assert len(stated) >= REPS
        alone = [statement_bytes(system.statement(QUARTER, s.rep_id, known_at=as_known))
                 for s in stated]
        assert [statement_bytes(s) for s in stated] == alone
    lines = {s.rep_id: s.lines for s in system.period_statements(QUARTER)}
    delivered_deals = {line.deal_id for rep in ("rep-0001", "rep-0002") for line in lines[rep]
                       if line.kind == "delivery_bonus"}
    assert {"OLD-1", "OLD-2", "NEW-1"} <= delivered_deals


def test_a_pass_finds_each_reps_cancellations_and_complaints_as_a_statement_of_its_own_does(
        system: System) -> None:
    """A pass reads the disputed deals once, where a single statement looks up every deal of
    the rep's: cancellations and complaints in the quarter or after it, of deals closed in it
    or delivered in it, and those recorded after `known_at`, count (or not) alike."""
    system.ingest(lines_of(
        roster("rep-0001", "team-x"), roster("rep-0002", "team-x"),
        deal("SOLD-1", "2026-07-03", "3000.00", ("rep-0001", "owner", "1")),
        cancelled("SOLD-1", "2026-08-10"),
        deal("SOLD-2", "2026-07-04", "2000.00", ("rep-0002", "owner", "1")),
        complaint("K-1", "2026-10-02", rep_id="rep-0002", deal_id="SOLD-2"),  # the next quarter
        deal("OLD-1", "2026-06-25", "1500.00", ("rep-0001", "owner", "1")),
        delivered("OLD-1", "2026-07-12"),
        cancelled("OLD-1", "2026-07-30")))
    known = utc_now()
    system.ingest(lines_of(
        deal("SOLD-3", "2026-07-05", "2500.00", ("rep-0001", "owner", "1")),
        complaint("K-2", "2026-07-20", rep_id="rep-0001", deal_id="SOLD-3"),
        cancelled("SOLD-2", "2026-09-01")))
    for as_known in (None, known):
        stated = system.period_statements(QUARTER, known_at=as_known)
        alone = [statement_bytes(system.statement(QUARTER, s.rep_id, known_at=as_known))
                 for s in stated]
        assert [statement_bytes(s) for s in stated] == alone
    lines = {s.rep_id: s.lines for s in system.period_statements(QUARTER)}
    kinds = {(line.deal_id, line.kind) for rep in ("rep-0001", "rep-0002") for line in lines[rep]}
    assert ("SOLD-3", "clawback") in kinds
    assert not {deal_id for deal_id, _ in kinds} & {"SOLD-1", "SOLD-2", "OLD-1"}
