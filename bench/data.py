"""Inputs shared by the benchmarks, generated once into bench/.data/ and reused when present:
simulated quarters as JSON Lines and SQLite stores built from them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("PERFLEDGER_BENCH_DATA", ROOT / "bench" / ".data"))
PLAN_FILE = ROOT / "perfledger" / "samples" / "plan.yaml"
PERIOD = "2026-Q3"
SEED = 7


def plan_text() -> str:
    """The sample plan, the one every store publishes first."""
    return PLAN_FILE.read_text()


def new_plan_text() -> str:
    """The plan a replay applies: the sample plan as version 2 with higher tier rates."""
    text = plan_text().replace("version: 1", "version: 2", 1)
    for old, new in (('rate: "0.04"', 'rate: "0.05"'), ('rate: "0.08"', 'rate: "0.09"'),
                     ('rate: "0.12"', 'rate: "0.14"')):
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def note(message: str) -> None:
    """Progress on stderr, so results on stdout stay machine-readable."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _atomic_write(path: Path, chunks: Iterator[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
    partial.replace(path)


def events_file(events: int, reps: int = 1000, seed: int = SEED, period: str = PERIOD) -> Path:
    """A simulated period of exactly `events` CloudEvents over `reps` reps, as JSON Lines."""
    path = DATA / f"events-{period}-r{reps}-s{seed}-n{events}.jsonl"
    if not path.exists():
        from perfledger.simulation import simulate

        note(f"simulating {events} events over {reps} reps into {path.name}")
        _atomic_write(path, (orjson.dumps(e) + b"\n" for e in simulate(period, reps, seed, events)))
    return path


def hot_rep_file(lines: int, background: int, reps: int, seed: int = SEED,
                 period: str = PERIOD, rep_id: str = "rep-0001") -> Path:
    """A simulated period of `background` events plus `lines` enterprise deals all owned by
    `rep_id`, spread over the period's days: that rep's statement has about `lines` commission
    lines more than the background gives it."""
    path = DATA / f"hot-{period}-r{reps}-s{seed}-n{background}-l{lines}.jsonl"
    if path.exists():
        return path
    from domain.periods import Period
    from perfledger.simulation import simulate

    parsed = Period.parse(period)
    note(f"simulating {background} events plus {lines} deals of {rep_id} into {path.name}")

    def generate() -> Iterator[bytes]:
        for event in simulate(period, reps, seed, background):
            yield orjson.dumps(event) + b"\n"
        for number in range(1, lines + 1):
            day = parsed.first_day.toordinal() + (number * parsed.days) // (lines + 1)
            stamp = f"{parsed.first_day.fromordinal(day).isoformat()}T12:{number % 60:02d}:00Z"
            yield orjson.dumps({
                "specversion": "1.0", "id": f"hot-{number:05d}", "source": "bench",
                "type": "deal.closed", "time": stamp,
                "data": {"deal_id": f"HOT-{number}", "customer_id": f"HOT-C-{number % 97}",
                         "product_line": "enterprise", "amount": f"{1000 + (number * 37) % 9000}.00",
                         "currency": "USD", "new_customer": number % 10 == 0, "units": 0,
                         "credits": [{"rep_id": rep_id, "role": "owner", "split": "1"}]}}) + b"\n"

    _atomic_write(path, generate())
    return path


def built_store(source: Path) -> Path:
    """A SQLite store holding the sample plan and every event of `source`, projections caught
    up; built once (in a subprocess, so the caller's memory stays clean) and reused."""
    store = DATA / f"store-{source.stem}.db"
    done = store.with_name(store.name + ".complete")
    if done.exists() and store.exists():
        subprocess.run([sys.executable, "-m", "bench.data", "--schema", str(store)], check=True,
                       cwd=ROOT)
        return store
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    note(f"building the store {store.name} from {source.name} (once; not measured)")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bench.data", str(source), str(store)], check=True,
                   cwd=ROOT)
    done.write_text(f"built in {time.perf_counter() - started:.1f} s\n")
    note(f"built {store.name} in {time.perf_counter() - started:.1f} s")
    return store


def _upgrade(store: Path) -> None:
    """Bring a built store's read-model schema up to date (indexes added since it was built),
    outside any timed region."""
    from perfledger.settings import Settings
    from perfledger.wiring import System

    system = System(Settings(database_url=f"sqlite:///{store}"))
    try:
        system.runner.create_tables()
    finally:
        system.close()


def _build(source: Path, store: Path) -> None:
    from perfledger.reading import input_lines
    from perfledger.settings import Settings
    from perfledger.wiring import System

    system = System(Settings(database_url=f"sqlite:///{store}"))
    try:
        system.ledger.publish_plan(plan_text())
        report = system.ingest(input_lines([str(source)]))
        system.runner.catch_up()
        if report.rejected:
            raise SystemExit(f"{len(report.rejected)} lines rejected, e.g. "
                             f"{report.rejected[0].reason}")
    finally:
        system.close()


RUNNING = {"kafka.sh": "PERFLEDGER_KAFKA_BOOTSTRAP", "postgres.sh": "PERFLEDGER_DATABASE_URL"}


def start_service(script: str) -> str:
    """The service the environment points at (PERFLEDGER_KAFKA_BOOTSTRAP, or a PostgreSQL
    PERFLEDGER_DATABASE_URL), as the tests do; else start (or find running) a local one with
    deploy/local/<script>; its address."""
    given = os.environ.get(RUNNING[script], "")
    if given and (script == "kafka.sh" or given.startswith("postgresql")):
        return given
    done = subprocess.run([str(ROOT / "deploy" / "local" / script), "start"], check=True,
                          capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


@contextmanager
def postgres_database(server_url: str, prefix: str = "perfledger_bench") -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the server, dropped afterwards; its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(admin, name)
        admin.dispose()


def _drop_database(admin: Any, name: str, attempts: int = 20) -> None:
    """Drop a database, retrying while e.g. an autovacuum worker (which FORCE may not end for a
    non-superuser) still holds it; a database left behind is reported, not fatal."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    for attempt in range(attempts):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError as error:
            if attempt == attempts - 1:
                note(f"could not drop the database {name}: {error.orig}")
                return
            time.sleep(0.5)


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as a plain libpq one, for psycopg.connect."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def json_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as source:
        for line in source:
            yield orjson.loads(line)


if __name__ == "__main__":
    if sys.argv[1] == "--schema":
        _upgrade(Path(sys.argv[2]))
    else:
        _build(Path(sys.argv[1]), Path(sys.argv[2]))
