"""PostgreSQL plans the read models' queries from statistics: pages keep those of the facts tables
in step with the log as it grows, where autovacuum may take a minute or more; and they vacuum the
events table, which a vacuum of autovacuum's would stall every insert into."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from perfledger.settings import Settings
from perfledger.simulation import simulate
from perfledger.wiring import System
from projections.tables import facts
from tests.integration.read_models import incoming, sample_plan

pytestmark = pytest.mark.integration


@pytest.fixture
def system(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[System]:
    monkeypatch.setattr("projections.runner.STATISTICS_FROM", 50)
    built = System(Settings(database_url=postgres_url))
    yield built
    built.close()


def planned_facts(system: System) -> float:
    """How many rows the planner takes the facts table to hold (-1: never analysed)."""
    with system.engine.connect() as conn:
        return float(conn.execute(text(
            "SELECT reltuples FROM pg_class WHERE relname = 'facts'")).scalar_one())


def facts_held(system: System) -> int:
    with system.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(facts)).scalar_one())


def test_pages_refresh_the_statistics_each_time_the_log_doubles(system: System) -> None:
    system.ledger.publish_plan(sample_plan())
    events = list(simulate("2026-Q3", reps=12, seed=11))[:400]
    system.runner.catch_up()
    planned = [planned_facts(system)]
    for start in range(0, len(events), 20):
        system.ledger.record_facts(incoming(events[start:start + 20], f"page{start}"))
        system.runner.catch_up(settle=False)
        planned.append(planned_facts(system))
    refreshed = sorted({p for p in planned if p >= 0})
    assert planned[0] == -1, "a new table is never analysed"
    assert len(refreshed) >= 3, planned  # from 50 positions on, at every doubling
    assert refreshed[-1] > facts_held(system) / 2 - 1, "never more than half the table behind"


def test_pages_vacuum_the_events_table_which_autovacuum_leaves_them(system: System) -> None:
    def events_table() -> tuple[int, list[str]]:
        with system.engine.connect() as conn:
            row = conn.execute(text("SELECT relallvisible, reloptions FROM pg_class "
                                    "WHERE relname = 'perfledger_events'")).one()
            return int(row.relallvisible), list(row.reloptions or [])

    visible, options = events_table()
    assert visible == 0, "never vacuumed"
    assert "autovacuum_vacuum_insert_scale_factor=2.0" in options
    system.ledger.publish_plan(sample_plan())
    events = list(simulate("2026-Q3", reps=12, seed=11))[:400]
    for start in range(0, len(events), 20):
        system.ledger.record_facts(incoming(events[start:start + 20], f"page{start}"))
        system.runner.catch_up(settle=False)
    assert events_table()[0] > 0, "vacuumed: its pages are marked all-visible"


@pytest.mark.parametrize("alongside", [False, True], ids=["in turn", "pages alongside"])
def test_a_bulk_load_ends_with_statistics_of_the_whole_table(postgres_url: str,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             alongside: bool) -> None:
    """Applied in turn, a bulk load's pages refresh the statistics at every doubling of the log;
    applied by a pages process, they do so there (not counted here). Either way the load ends
    with statistics of the whole table."""
    monkeypatch.setattr("projections.runner.STATISTICS_FROM", 50)
    system = System(Settings(database_url=postgres_url, ingest_batch_size=50,
                             ingest_pages_alongside=alongside))
    analysed_at: list[int] = []
    refresh = system.runner._refresh_statistics

    def counted() -> None:
        analysed_at.append(facts_held(system))
        refresh()

    monkeypatch.setattr(system.runner, "_refresh_statistics", counted)
    try:
        system.ledger.publish_plan(sample_plan())
        system.ingest(incoming(list(simulate("2026-Q3", reps=12, seed=11))[:400], "file"))
        if not alongside:  # at every doubling of the log, and at the end
            assert len(analysed_at) >= 3, analysed_at
        assert analysed_at[-1] == facts_held(system)
        assert planned_facts(system) == facts_held(system)
    finally:
        system.close()
