"""After a bulk load the stale statements are recomputed in several processes and written by the
loading one: what it stores equals what one process stores, and a page applied in between (facts
another process recorded) makes it finish one group at a time instead, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import select

import projections.statements
from domain.engine.running import standing_of
from domain.periods import Period
from perfledger.settings import Settings
from perfledger.simulation import simulate
from perfledger.wiring import System
from projections.score_updates import figures
from projections.tables import live_statements, running_totals, score_updates, stale_statements
from tests.integration.read_models import incoming, sample_plan

pytestmark = pytest.mark.integration

QUARTER = Period.parse("2026-Q3")
REPS_PER_STEP = 3  # 12 reps in groups of whole teams of about 3: several groups
SHOWN = ("credited_revenue", "effective_targets", "attainment", "scorecard_score",
         "commission_to_date")


def quarter_events() -> list[dict[str, Any]]:
    return list(simulate("2026-Q3", reps=12, seed=11))[:500]


def bulk_steps(system: System, events: list[dict[str, Any]]) -> Iterator[int]:
    """A bulk load of the events, then the statements' recomputation a group at a time."""
    with system.runner.in_bulk():
        system.ledger.record_facts(incoming(events, "quarter"))
        system.runner.catch_up(settle=False)
        yield from system.statements.settle_steps(system.engine, REPS_PER_STEP)


def assert_current(system: System) -> None:
    """Nothing stale; every live statement, its running totals and its last published figures
    are what computing the statement from the facts gives."""
    with system.engine.connect() as conn:
        assert conn.execute(select(stale_statements)).all() == []
        reps = [rep for rep, in conn.execute(select(live_statements.c.rep_id).where(
            live_statements.c.period == QUARTER.name))]
        totals = {rep for rep, in conn.execute(select(running_totals.c.rep_id).where(
            running_totals.c.period == QUARTER.name))}
        published: dict[str, dict[str, Any]] = {}
        for payload, in conn.execute(select(score_updates.c.payload).order_by(score_updates.c.id)):
            update = orjson.loads(payload)
            published[update["rep_id"]] = update
    assert len(reps) == 12
    assert totals == set(reps)
    for rep in reps:
        statement = system.statement(QUARTER, rep)
        assert system.live_statement(QUARTER, rep) == statement.to_json()
        assert {k: published[rep][k] for k in SHOWN} == figures(standing_of(statement))


@pytest.fixture
def spread(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many groups each recomputation spread over processes handed back."""
    handed: list[int] = []
    across = projections.statements.across_processes

    def counting(*args: Any) -> Iterator[Any]:
        handed.append(0)
        for result in across(*args):
            handed[-1] += 1
            yield result
    monkeypatch.setattr(projections.statements, "across_processes", counting)
    return handed


def test_a_bulk_load_recomputed_across_processes_is_current(database_url: str,
                                                           spread: list[int]) -> None:
    system = System(Settings(database_url=database_url, statement_processes=2))
    try:
        system.ledger.publish_plan(sample_plan())
        groups = list(bulk_steps(system, quarter_events()))
        assert spread == [len(groups)], "the recomputation was not spread over processes"
        assert sum(groups) == 12
        assert len(groups) > 1
        system.runner.catch_up()
        assert_current(system)
    finally:
        system.close()


def test_a_page_applied_meanwhile_leaves_the_rest_to_one_process(database_url: str,
                                                                 spread: list[int]) -> None:
    """Another process records a deal and applies its page while the groups are being
    written: the figures computed before it are not written over it; the groups left are
    recomputed one by one, and the deal's rep once more."""
    loading, other = (System(Settings(database_url=database_url, statement_processes=2))
                      for _ in range(2))
    try:
        loading.ledger.publish_plan(sample_plan())
        events = quarter_events()
        steps = bulk_steps(loading, events)
        next(steps)  # the first group (team-01) is written
        deal = next(e for e in events if e["type"] == "deal.closed")
        late = {**deal, "id": "late-deal", "data": {
            **deal["data"], "deal_id": "D-late",
            "credits": [{"rep_id": "rep-0012", "role": "owner", "split": "1"}]}}
        other.ledger.record_facts(incoming([late], "late"))
        other.runner.catch_up(settle=False)
        for _ in steps:
            pass
        assert spread == [2], "the second group was computed, then left to one process"
        loading.runner.catch_up()
        assert_current(loading)
        lines = loading.live_statement(QUARTER, "rep-0012")["lines"]
        assert "D-late" in {line["deal_id"] for line in lines}
    finally:
        loading.close()
        other.close()
