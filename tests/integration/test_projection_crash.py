"""A projection runner killed mid-way and restarted loses no rows and doubles none."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError

from domain.intake import Incoming
from domain.ledger import Ledger
from perfledger.settings import Settings
from perfledger.simulation import simulate
from perfledger.wiring import System, batched, event_store_env, utc_now
from projections.tables import facts, rejects, stale_statements
from tests.integration.read_models import (
    Rows,
    count_rows,
    differences,
    dump_read_models,
    duplicated,
    fact_positions,
    incoming,
    positions,
    sample_plan,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PAGE_SIZE = 50
SEED = 21
REJECTED = [b'{"specversion": "1.0"', b'{"type": "deal.won"}']
# Each interruption waits this long after seeing progress, to land in a different part of a page.
KILL_DELAYS = (0.0, 0.03, 0.07)
CATCH_UP = ("from perfledger.settings import Settings; from perfledger.wiring import System; "
            "System(Settings()).runner.catch_up()")


def record_only(database_url: str, reps: int = 20) -> tuple[int, int, int]:
    """Record a plan, a simulated quarter and two bad lines with the ledger alone (no projection
    runs); return (facts recorded, rejects recorded, last log position)."""
    ledger = Ledger(event_store_env(database_url), clock=utc_now)
    try:
        ledger.publish_plan(sample_plan())
        lines = incoming(simulate("2026-Q3", reps=reps, seed=SEED), "simulated")
        lines += [Incoming(raw, f"bad:{n}") for n, raw in enumerate(REJECTED, start=1)]
        accepted = rejected = 0
        for batch in batched(lines, 500):
            report = ledger.record_facts(batch)
            accepted, rejected = accepted + len(report.accepted), rejected + len(report.rejected)
        return accepted, rejected, ledger.recorder.max_notification_id()
    finally:
        ledger.close()


def start_catching_up(database_url: str, cwd: Path, *, first: bool) -> subprocess.Popen[bytes]:
    """A process projecting the log 50 events per transaction: `perfledger rebuild` the first
    time, a plain catch-up from the tracked positions after that."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFLEDGER_")}
    env |= {"PERFLEDGER_PROJECTION_PAGE_SIZE": str(PAGE_SIZE),
            "PERFLEDGER_DATABASE_URL": database_url}
    args = ["-m", "perfledger", "--db", database_url, "rebuild"] if first else ["-c", CATCH_UP]
    return subprocess.Popen([sys.executable, *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_mid_way(process: subprocess.Popen[bytes], engine: Engine, beyond: int, last: int,
                 delay: float) -> dict[str, int]:
    """SIGKILL the process `delay` seconds after every projection got past `beyond`, while much
    of the log is still to do; return the positions it left behind."""
    deadline = time.monotonic() + 120
    while True:
        try:
            seen = positions(engine)
        except SQLAlchemyError:  # the runner may be creating its tables at this instant
            seen = {}
        if seen and min(seen.values()) >= beyond:
            break
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"exited {process.returncode} before it could be killed:\n{stderr}")
        assert time.monotonic() < deadline, "no progress within two minutes"
        time.sleep(0.005)
    assert max(seen.values()) < last - 10 * PAGE_SIZE, "too close to the end to interrupt"
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return positions(engine)


def rebuild(database_url: str, engine: Engine) -> Rows:
    """Every read model rebuilt from the log by a fresh system, as rows."""
    system = System(Settings(database_url=database_url))
    try:
        system.runner.rebuild()
    finally:
        system.close()
    return dump_read_models(engine)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = create_engine(database_url)
    yield built
    built.dispose()


def test_a_killed_runner_resumes_without_lost_or_doubled_rows(
        database_url: str, engine: Engine, tmp_path: Path) -> None:
    """Kill -9 the projection runner mid-way, three times, then catch up again: the read models
    hold every fact once, nothing is left stale, and they equal a clean rebuild of the log."""
    recorded, rejected, last = record_only(database_url)
    left: list[dict[str, int]] = []
    for round_, delay in enumerate(KILL_DELAYS):
        reached = min(left[-1].values()) if left else 0
        process = start_catching_up(database_url, tmp_path, first=round_ == 0)
        left.append(kill_mid_way(process, engine, reached + 2 * PAGE_SIZE, last, delay))

    system = System(Settings(database_url=database_url))
    try:
        system.runner.catch_up()
        resumed_positions = system.runner.positions()
    finally:
        system.close()
    resumed = dump_read_models(engine)
    stored_facts = fact_positions(engine)
    stored_rejects = count_rows(engine, rejects)
    still_stale = count_rows(engine, stale_statements)
    rebuilt = rebuild(database_url, engine)

    reached = [min(seen.values()) for seen in left]
    assert reached == sorted(reached)
    assert reached[0] > 0
    assert max(left[-1].values()) < last
    assert set(resumed_positions.values()) == {last}
    assert len(stored_facts) == recorded
    assert len(set(stored_facts)) == recorded
    assert stored_rejects == rejected == len(REJECTED)
    assert still_stale == 0
    assert {table: duplicated(rows) for table, rows in resumed.items()
            if duplicated(rows)} == {}
    assert differences(rebuilt, resumed) == {}


def test_marks_left_unsettled_are_settled_after_a_restart(database_url: str, engine: Engine) -> None:
    """A process that projected the log but stopped before recomputing the stale statements
    leaves the marks behind; the next catch-up settles them."""
    recorded, _, last = record_only(database_url, reps=6)
    interrupted = System(Settings(database_url=database_url))
    try:
        interrupted.runner.catch_up(settle=False)
    finally:
        interrupted.close()
    marked = count_rows(engine, stale_statements)

    system = System(Settings(database_url=database_url))
    try:
        system.runner.catch_up()
        resumed_positions = system.runner.positions()
    finally:
        system.close()
    resumed = dump_read_models(engine)
    rebuilt = rebuild(database_url, engine)

    assert marked > 0
    assert count_rows(engine, stale_statements) == 0
    assert count_rows(engine, facts) == recorded
    assert set(resumed_positions.values()) == {last}
    assert differences(rebuilt, resumed) == {}
