"""Score updates stepped from running totals, page by page, before any statement is recomputed:
what they publish equals what recomputing the statement gives, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from domain.engine.running import standing_of
from domain.periods import Period
from perfledger.settings import Settings
from perfledger.simulation import simulate
from perfledger.wiring import System
from projections.score_updates import figures
from projections.tables import live_statements, running_totals, score_updates, stale_statements
from tests.builders import deal, roster, target
from tests.integration.read_models import incoming, sample_plan

pytestmark = pytest.mark.integration

DECISIONS = ("roster.assigned", "target.set")
SHOWN = ("credited_revenue", "effective_targets", "attainment", "scorecard_score",
         "commission_to_date")


@pytest.fixture
def system(database_url: str) -> Iterator[System]:
    built = System(Settings(database_url=database_url))
    yield built
    built.close()


def latest_updates(system: System) -> dict[tuple[str, str], dict[str, Any]]:
    with system.engine.connect() as conn:
        rows = conn.execute(select(score_updates.c.payload).order_by(score_updates.c.id))
        return {(p["rep_id"], p["period"]): p for p in map(orjson.loads, (r[0] for r in rows))}


def count(system: System, table: Any) -> int:
    with system.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def assert_published_figures_are_current(system: System, keys: set[tuple[str, str]]) -> None:
    published = latest_updates(system)
    for rep, period in sorted(keys):
        expected = figures(standing_of(system.statement(Period.parse(period), rep)))
        assert {k: published[(rep, period)][k] for k in SHOWN} == expected, (rep, period)


@pytest.mark.parametrize("budget", [400, 5])
def test_steps_publish_the_figures_a_recomputation_gives(system: System, budget: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """With a page's budget of recomputed totals too small for a plan change (5 reps), the
    totals left out wait for the statements' recomputation; what is published stays current."""
    monkeypatch.setattr("projections.running.RESTORE_PER_PAGE", budget)
    system.ledger.publish_plan(sample_plan())
    events = list(simulate("2026-Q3", reps=12, seed=11))
    opening = next(n for n, e in enumerate(events) if e["type"] not in DECISIONS)
    later = events[opening:]  # facts, with the mid-quarter target revisions among them
    assert any(e["type"] == "target.set" for e in later)
    system.ingest(incoming(events[:opening], "decisions"))  # every statement has its totals
    stepped_updates = 0
    for start in range(0, len(later), 60):
        if start == 600:  # a new plan version mid-quarter: every statement's totals are dropped
            system.ledger.publish_plan(sample_plan().replace("version: 1", "version: 2")
                                       .replace('rate: "0.12"', 'rate: "0.15"'))
        before = count(system, score_updates)
        system.ledger.record_facts(incoming(later[start:start + 60], f"page{start}"))
        system.runner.catch_up(settle=False)
        stepped_updates += count(system, score_updates) - before
        with system.engine.connect() as conn:
            kept = {(r.rep_id, r.period) for r in conn.execute(select(running_totals))}
            stale = {(r.rep_id, r.period) for r in conn.execute(select(stale_statements))}
        # Every statement the page bears on has its totals, and published its current figures.
        assert stale, "the statements are recomputed behind the page"
        assert stale <= kept or budget < len(kept | stale)
        assert_published_figures_are_current(system, kept)
        before_settle = count(system, score_updates)
        system.runner.catch_up()
        if stale <= kept:
            assert count(system, score_updates) == before_settle, "recomputing finds nothing new"
    assert stepped_updates >= len(later) / 10
    assert_published_figures_are_current(system, set(latest_updates(system)))


def test_a_recomputation_reads_decisions_another_process_recorded(database_url: str) -> None:
    """Two processes on one store: the one that recomputes statements did not apply the page
    that moved a rep to another team and raised a target, so its cached roster and targets
    are out of date; the statements it stores are still those of the ledger as it stands."""
    first, second = (System(Settings(database_url=database_url)) for _ in range(2))
    try:
        first.ledger.publish_plan(sample_plan())
        events = list(simulate("2026-Q3", reps=12, seed=11))[:400]
        first.ingest(incoming(events, "quarter"))
        first.ledger.record_facts(incoming(events[400:420], "more"))
        first.runner.catch_up()  # the first process's cache now holds the quarter's decisions
        moved = {**events[0], "id": "move-rep-0001", "time": "2026-08-01T00:00:00Z",
                 "data": {"rep_id": "rep-0001", "team_id": "team-02",
                          "effective_from": "2026-08-01"}}
        target = next(e for e in events if e["type"] == "target.set")
        raised = {**target, "id": "raise-target", "time": "2026-08-01T00:00:00Z",
                  "data": {**target["data"], "value": "990000.00", "reason": "revised"}}
        second.ledger.record_facts(incoming([moved, raised], "decisions"))
        second.runner.catch_up(settle=False)
        first.runner.catch_up()
        with first.engine.connect() as conn:
            assert not conn.execute(select(stale_statements)).first()
            reps = {r.rep_id for r in conn.execute(select(running_totals.c.rep_id))}
        quarter = Period.parse("2026-Q3")
        assert first.live_statement(quarter, "rep-0001")["team_id"] == "team-02"
        for rep in sorted(reps):
            assert first.live_statement(quarter, rep) == first.statement(quarter, rep).to_json()
    finally:
        first.close()
        second.close()


def test_a_month_has_a_live_statement_from_the_page_whose_target_names_it(system: System) -> None:
    """Quarters always have live statements, a month once a target names it. The months tracked
    are kept from page to page, so a target naming a month must refresh them: the sales of the
    pages after it bear on the month's statement too."""
    system.ledger.publish_plan(sample_plan())
    july = Period.parse("2026-07")

    def record(*events: dict[str, Any]) -> None:
        system.ledger.record_facts(incoming(events))
        system.runner.catch_up()

    def months() -> set[str]:
        with system.engine.connect() as conn:
            return {p for p, in conn.execute(select(live_statements.c.period).distinct())} - {
                "2026-Q3"}

    record(roster("alice", "team-01"), target("rep:alice", "100000"))
    record(deal("d1", "2026-07-10", "10000"))
    assert months() == set()

    record(target("rep:alice", "30000", period="2026-07", event_id="t-alice-july"))
    record(deal("d2", "2026-07-20", "5000"))

    assert months() == {"2026-07"}
    live = system.live_statement(july, "alice")
    assert live == system.statement(july, "alice").to_json()
    assert live["credited_revenue"] == "15000.00"


def test_a_process_steps_from_the_totals_another_process_stored(database_url: str) -> None:
    """Each process keeps the stored running totals from page to page. When another process
    applied a page in between, what it stored is read again before the next step: the sales of
    both count in what the first process publishes."""
    first, second = (System(Settings(database_url=database_url)) for _ in range(2))
    try:
        first.ledger.publish_plan(sample_plan())
        first.ledger.record_facts(incoming(
            [roster("alice", "team-01"), roster("bob", "team-01"), target("rep:alice", "100000")]))
        first.runner.catch_up()  # statements recomputed: their totals stored and kept
        for system, sale in ((first, deal("d1", "2026-07-10", "10000")),
                             (second, deal("d2", "2026-07-11", "20000")),
                             (first, deal("d3", "2026-07-12", "5000"))):
            system.ledger.record_facts(incoming([sale], sale["id"]))
            system.runner.catch_up(settle=False)  # published from the stepped totals only

        assert latest_updates(first)[("alice", "2026-Q3")]["credited_revenue"] == "35000.00"
        assert_published_figures_are_current(first, {("alice", "2026-Q3"), ("bob", "2026-Q3")})
    finally:
        first.close()
        second.close()
