"""Ingest: file → store → every projection caught up (`perfledger ingest FILE`), in events/s, next
to (a) the limit, a bare batched INSERT of the same lines into one table of the same kind of
database, and (b) the naive way, one eventsourcing `save()` per fact."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import data
from bench.harness import (
    PROFILES,
    Config,
    cpu_seconds,
    goal,
    largest_child_rss_kib,
    mib,
    profiled,
    run_child,
    spread,
)

BATCH = 1000
GOALS = {"sqlite": 10_000, "postgresql": 5_000}
NAIVE_FACTOR = 5


@contextmanager
def _database(params: dict[str, Any]) -> Iterator[str]:
    """A fresh database of the asked kind: a SQLite file in a temporary folder, or a new
    PostgreSQL database on the local server."""
    if params["backend"] == "postgresql":
        with data.postgres_database(params["server_url"]) as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="perfledger-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'ledger.db'}"


def _system(url: str) -> Any:
    from perfledger.settings import Settings
    from perfledger.wiring import System

    system = System(Settings(database_url=url))
    system.ledger.publish_plan(data.plan_text())
    system.runner.catch_up()  # read-model tables exist before the clock starts
    return system


def measure_product(params: dict[str, Any]) -> dict[str, Any]:
    """`perfledger ingest FILE`: System.ingest over the file's lines, then catch_up. The CPU time
    counts the processes the ingest started (the pages process, then the final recomputation's);
    the peak RSS counts as many as run at once (the recomputation's, one per CPU) at the largest
    one's peak, on top of this process's."""
    from perfledger.reading import input_lines
    from projections.pool import processes_for

    with _database(params) as url:
        system = _system(url)
        try:
            with profiled():
                started, cpu = time.perf_counter(), cpu_seconds()
                report = system.ingest(input_lines([params["file"]]))
                system.runner.catch_up()
                seconds = time.perf_counter() - started
                cpu = cpu_seconds() - cpu
            at_once = processes_for(system.settings.statement_processes)
        finally:
            system.close()
    accepted = len(report.accepted)
    if accepted != params["count"]:
        raise RuntimeError(f"accepted {accepted} of {params['count']} lines; "
                           f"rejected {len(report.rejected)}, duplicates {report.duplicates}")
    return {"events": accepted, "seconds": seconds, "cpu_seconds": cpu,
            "children_rss_kib": at_once * largest_child_rss_kib()}


def measure_naive(params: dict[str, Any]) -> dict[str, Any]:
    """One eventsourcing `Application.save()` (one transaction) per fact; no projections."""
    lines = Path(params["file"]).read_bytes().splitlines()
    with _database(params) as url:
        system = _system(url)
        try:
            started, cpu = time.perf_counter(), time.process_time()
            for line in lines:
                _save_naively(system.ledger, line)
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
        finally:
            system.close()
    return {"events": len(lines), "seconds": seconds, "cpu_seconds": cpu}


def _save_naively(ledger: Any, line: bytes) -> None:
    """A fact recorded the textbook way: decoded, made into its aggregates (the deal read back
    from the store for a delivery or cancellation, a key claim for a deal's fact) and saved."""
    from domain.aggregates import (
        AGGREGATE_FOR_TYPE,
        LIFECYCLE_EVENT,
        KeyClaim,
        created_id,
        deal_id_of,
        envelope_fields,
    )
    from domain.envelope import LIFECYCLE_TYPES, decode_event

    envelope, at = decode_event(line), ledger.clock()
    if envelope.type in LIFECYCLE_TYPES:
        deal = ledger.repository.get(deal_id_of(envelope.data()["deal_id"]))
        deal.trigger_event(LIFECYCLE_EVENT[envelope.type], timestamp=at, **envelope_fields(envelope))
        changed = [deal]
    else:
        changed = [AGGREGATE_FOR_TYPE[envelope.type].record(envelope, created_id(envelope), at)]
    if envelope.type.startswith("deal."):
        changed.append(KeyClaim.claim(envelope, at))
    ledger.save(*changed)


def measure_bare(params: dict[str, Any]) -> dict[str, Any]:
    """The limit: the same lines into `(id integer primary key, body text)` with executemany,
    1,000 rows per transaction."""
    with _database(params) as url:
        started, cpu = time.perf_counter(), time.process_time()
        if params["backend"] == "postgresql":
            count = _bare_postgres(url, params["file"])
        else:
            count = _bare_sqlite(url.removeprefix("sqlite:///"), params["file"])
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    return {"events": count, "seconds": seconds, "cpu_seconds": cpu}


def _rows(file: str) -> Iterator[list[tuple[int, str]]]:
    batch: list[tuple[int, str]] = []
    with open(file, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            batch.append((number, line.rstrip("\n")))
            if len(batch) == BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _bare_sqlite(path: str, file: str) -> int:
    # The event store's settings: autocommit connection, WAL journal, default synchronous.
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE lines (id integer primary key, body text)")
    count = 0
    for batch in _rows(file):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO lines (id, body) VALUES (?, ?)", batch)
        conn.execute("COMMIT")
        count += len(batch)
    conn.close()
    return count


def _bare_postgres(url: str, file: str) -> int:
    import psycopg

    count = 0
    with psycopg.connect(data.libpq_url(url)) as conn:
        conn.execute("CREATE TABLE lines (id integer primary key, body text)")
        conn.commit()
        for batch in _rows(file):
            with conn.cursor() as cursor:
                cursor.executemany("INSERT INTO lines (id, body) VALUES (%s, %s)", batch)
            conn.commit()
            count += len(batch)
    return count


MEASURES = {"product": measure_product, "naive": measure_naive, "bare": measure_bare}


def run(config: Config, backend: str) -> dict[str, Any]:
    """Repetitions of product, bare and naive, interleaved so they share the machine's mood."""
    file = data.events_file(config.ingest_events, config.reps)
    base: dict[str, Any] = {"backend": backend, "file": str(file), "count": config.ingest_events}
    if backend == "postgresql":
        base["server_url"] = data.start_service("postgres.sh")
    # The naive way runs on a smaller quarter of the same mix (same events per rep), so its
    # share of roster and target decisions matches the big file's.
    naive_count = min(config.naive_events, config.ingest_events)
    naive_reps = max(1, config.reps * naive_count // config.ingest_events)
    naive_file = data.events_file(naive_count, naive_reps)
    runs: dict[str, list[dict[str, Any]]] = {"product": [], "bare": [], "naive": []}
    name = "ingest-sqlite" if backend == "sqlite" else "ingest-postgres"
    for repetition in range(1, config.repetitions + 1):
        for kind in ("product", "bare", "naive"):
            params = {**base, "count": naive_count, "file": str(naive_file)} if kind == "naive" else base
            result = run_child("ingest", kind, params)
            runs[kind].append(result)
            data.note(f"{name} #{repetition} {kind}: {result['events'] / result['seconds']:,.0f} "
                      f"events/s, peak RSS {mib(result['maxrss_kib']):.0f} MiB")

    def rates(kind: str) -> list[float]:
        return [r["events"] / r["seconds"] for r in runs[kind]]

    product, bare, naive = spread(rates("product")), spread(rates("bare")), spread(rates("naive"))
    ratios = [p / b for p, b in zip(rates("product"), rates("bare"), strict=True)]
    versus_naive = [p / n for p, n in zip(rates("product"), rates("naive"), strict=True)]
    figures = {
        "product_events_per_s": product,
        "bare_insert_events_per_s": bare,
        "naive_events_per_s": naive,
        "product_share_of_bare": spread(ratios, 4),
        "product_over_naive": spread(versus_naive, 2),
        "product_peak_rss_mib": spread([mib(r["maxrss_kib"]) for r in runs["product"]]),
        "product_seconds": spread([r["seconds"] for r in runs["product"]], 2),
        "product_cpu_seconds": spread([r["cpu_seconds"] for r in runs["product"]], 2),
        "product_events_per_cpu_s": spread([r["events"] / r["cpu_seconds"] for r in runs["product"]]),
    }
    goals = [
        goal(f"ingest ≥ {GOALS[backend]:,} events/s on {backend}", product["median"],
             GOALS[backend], at_most=False, unit="events/s"),
        goal(f"ingest ≥ {NAIVE_FACTOR}× the naive way", figures["product_over_naive"]["median"],
             NAIVE_FACTOR, at_most=False, unit="×"),
    ]
    return {"name": name, "params": {"events": config.ingest_events, "reps": config.reps,
                                     "file": file.name, "naive_events": naive_count,
                                     "naive_file": naive_file.name, "batch": BATCH},
            "figures": figures, "goals": goals,
            "runs": runs}


def profile(config: Config, backend: str) -> Path:
    """One product run under pyinstrument: bench/results/profiles/ingest-<backend>.txt."""
    file = data.events_file(config.ingest_events, config.reps)
    params: dict[str, Any] = {"backend": backend, "file": str(file), "count": config.ingest_events}
    if backend == "postgresql":
        params["server_url"] = data.start_service("postgres.sh")
    target = PROFILES / f"ingest-{'sqlite' if backend == 'sqlite' else 'postgres'}.txt"
    result = run_child("ingest", "product", params, profile=target)
    data.note(f"profiled ingest {backend}: {result['events'] / result['seconds']:,.0f} events/s")
    return target
