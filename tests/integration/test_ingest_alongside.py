"""A file's ingest applies its batches to the read models in a second process while it records
the next ones: the read models are those the log gives when rebuilt in one process, whether the
pages process does its work, fails, or is told to stop by an error while recording. On a SQLite
file and on PostgreSQL."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from multiprocessing.synchronize import Event
from typing import Any

import pytest

import perfledger.wiring
from domain.intake import Incoming
from perfledger.settings import Settings
from perfledger.simulation import simulate
from perfledger.wiring import System
from projections.runner import Logged, ProjectionRunner
from tests.integration.read_models import differences, dump_read_models, incoming, positions
from tests.integration.read_models import sample_plan as plan_document

pytestmark = pytest.mark.integration

BATCH = 150  # lines per batch: the quarter below is recorded in 8 batches


@pytest.fixture
def system(database_url: str) -> Iterator[System]:
    """A fresh store holding the sample plan, ingesting in batches of `BATCH` lines."""
    system = System(Settings(database_url=database_url, ingest_batch_size=BATCH))
    system.ledger.publish_plan(plan_document())
    system.runner.catch_up()
    yield system
    system.close()


@pytest.fixture
def quarter() -> list[Incoming]:
    """A simulated quarter of every kind of fact, with a line that is rejected."""
    events: list[dict[str, Any]] = list(simulate("2026-Q3", reps=16, seed=12, events=1_150))
    return incoming([*events[:500], {"type": "deal.closed", "id": "broken"}, *events[500:]])


@pytest.fixture
def pages_here(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many log positions this process's runner applies (a forked process's count stays in
    that process)."""
    applied: list[int] = []
    apply = ProjectionRunner._apply

    def counted(runner: ProjectionRunner, page: list[Logged]) -> int:
        applied.append(len(page))
        return apply(runner, page)

    monkeypatch.setattr(ProjectionRunner, "_apply", counted)
    return applied


def rebuilt_alike(system: System) -> dict[str, Any]:
    """What a rebuild in this process changes of the read models (nothing, when they are what
    the log gives)."""
    built = dump_read_models(system.engine)
    system.runner.rebuild()
    return differences(built, dump_read_models(system.engine))


def test_another_process_applies_the_batches_as_they_commit(
        system: System, quarter: list[Incoming], pages_here: list[int]) -> None:
    report = system.ingest(quarter)
    recorded = system.ledger.recorder.max_notification_id()

    assert (len(report.accepted), len(report.rejected)) == (len(quarter) - 1, 1)
    assert set(positions(system.engine).values()) == {recorded}
    assert sum(pages_here) == 0  # the pages process applied every batch
    assert system.ledger.take_recorded(1, recorded) == []  # nothing kept for its own runner
    assert multiprocessing.active_children() == []
    assert rebuilt_alike(system) == {}


def test_an_input_shorter_than_a_batch_is_applied_here(
        system: System, quarter: list[Incoming], pages_here: list[int]) -> None:
    before = system.ledger.recorder.max_notification_id()
    system.ingest(quarter[:BATCH - 1])
    recorded = system.ledger.recorder.max_notification_id()

    assert set(positions(system.engine).values()) == {recorded}
    assert sum(pages_here) == recorded - before > 0  # every position, here
    assert rebuilt_alike(system) == {}


def test_one_process_does_it_all_when_the_settings_say_so(
        database_url: str, quarter: list[Incoming], pages_here: list[int]) -> None:
    system = System(Settings(database_url=database_url, ingest_batch_size=BATCH,
                             ingest_pages_alongside=False))
    try:
        system.ledger.publish_plan(plan_document())
        system.ingest(quarter)
        recorded = system.ledger.recorder.max_notification_id()
        assert set(positions(system.engine).values()) == {recorded}
        assert sum(pages_here) == recorded  # every position, here
        assert rebuilt_alike(system) == {}
    finally:
        system.close()


def test_what_a_failed_pages_process_left_is_applied_here(
        system: System, quarter: list[Incoming], monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    def fail_after_a_page(settings: Settings, finished: Event) -> None:
        pages = System(settings)
        with pages.runner.in_bulk(page_size=settings.ingest_batch_size):
            while pages.runner.catch_up(settle=False) == 0:
                finished.wait(0.01)
        raise RuntimeError("the pages process lost its database")

    monkeypatch.setattr(perfledger.wiring, "_apply_pages", fail_after_a_page)
    report = system.ingest(quarter)
    recorded = system.ledger.recorder.max_notification_id()

    assert len(report.accepted) == len(quarter) - 1
    assert set(positions(system.engine).values()) == {recorded}
    assert "Traceback" not in capfd.readouterr().err
    assert rebuilt_alike(system) == {}


def test_an_error_while_recording_leaves_no_process_and_every_committed_batch_applied(
        system: System, quarter: list[Incoming]) -> None:
    def lines() -> Iterator[Incoming]:
        yield from quarter[:BATCH * 3]
        raise OSError("the input file went away")

    with pytest.raises(OSError, match="went away"):
        system.ingest(lines())

    assert multiprocessing.active_children() == []
    assert set(positions(system.engine).values()) == {system.ledger.recorder.max_notification_id()}
    system.runner.catch_up()
    assert rebuilt_alike(system) == {}
