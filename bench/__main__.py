"""`python -m bench [--quick] [--only NAME] …`: run the benchmarks, write bench/results/*.json.

Exits non-zero only when a benchmark crashes; nothing here asserts anything about time."""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import decode, ingest, replay, score_latency, statement
from bench.data import ROOT, note
from bench.harness import Config, write_result
from bench.machine import code_version
from bench.report import summary

BENCHMARKS: dict[str, Callable[[Config], dict[str, Any]]] = {
    "ingest-sqlite": lambda config: ingest.run(config, "sqlite"),
    "ingest-postgres": lambda config: ingest.run(config, "postgresql"),
    "replay": replay.run,
    "score-latency": score_latency.run,
    "statement": statement.run,
    "decode": decode.run,
}


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part]


def parse(argv: list[str]) -> tuple[Config, list[str], bool]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: tiny sizes, one repetition (CI)")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}")
    parser.add_argument("--repetitions", type=int, help="fresh processes per figure (default 3)")
    parser.add_argument("--reps", type=int, help="sales reps in the simulated quarters")
    parser.add_argument("--ingest-events", type=int, help="events ingested (default 100000)")
    parser.add_argument("--naive-events", type=int, help="events of the naive way (default 10000)")
    parser.add_argument("--replay-sizes", type=_sizes,
                        help="comma-separated quarter sizes to replay (default 100000,1000000)")
    parser.add_argument("--score-rate", type=int, help="events/s produced (default 1000)")
    parser.add_argument("--score-seconds", type=float, help="seconds of producing (default 60)")
    parser.add_argument("--postgres", action="store_true",
                        help="score latency on PostgreSQL too (SQLite always)")
    parser.add_argument("--queries", type=int, help="statement/explain calls timed (default 200)")
    parser.add_argument("--profile", action="store_true",
                        help="instead of measuring: one run of each product measurement under "
                             "pyinstrument, into bench/results/profiles/ (score-latency has none)")
    args = parser.parse_args(argv)
    config = Config.quick_mode() if args.quick else Config()
    for option, attribute in (("repetitions", "repetitions"), ("reps", "reps"),
                              ("ingest_events", "ingest_events"), ("naive_events", "naive_events"),
                              ("replay_sizes", "replay_sizes"), ("score_rate", "score_rate"),
                              ("score_seconds", "score_seconds"), ("queries", "queries")):
        value = getattr(args, option)
        if value is not None:
            setattr(config, attribute, value)
    config.score_postgres = args.postgres
    if not args.quick and not args.profile and config.repetitions < 3:
        note(f"{config.repetitions} repetition(s): fewer than the 3 a full run takes")
    return config, args.only or list(BENCHMARKS), args.profile


PROFILERS: dict[str, Callable[[Config], Path]] = {
    "ingest-sqlite": lambda config: ingest.profile(config, "sqlite"),
    "ingest-postgres": lambda config: ingest.profile(config, "postgresql"),
    "replay": replay.profile,
    "statement": statement.profile,
}


def profile(config: Config, chosen: list[str]) -> int:
    for name in chosen:
        if name in PROFILERS:
            note(f"{name}: profile written to {PROFILERS[name](config)}")
    return 0


def _stop(signum: int, _frame: object) -> None:
    note(f"stopped by signal {signum}")
    raise SystemExit(128 + signum)  # unwinds, so the running measurement is stopped too


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop)
    config, chosen, profiling = parse(sys.argv[1:] if argv is None else argv)
    if profiling:
        return profile(config, chosen)
    crashed = []
    written = []
    for name in chosen:
        started = time.perf_counter()
        note(f"{name}: starting ({'quick' if config.quick else 'full'} mode)")
        code_before = code_version(ROOT)
        try:
            body = BENCHMARKS[name](config)
        except Exception:
            traceback.print_exc()
            note(f"{name}: CRASHED after {time.perf_counter() - started:.0f} s")
            crashed.append(name)
            continue
        body.pop("name", None)
        body["code_changed_during_run"] = (
            code_version(ROOT)["sources_sha256"] != code_before["sources_sha256"])
        written.append(write_result(name, config, body))
        note(f"{name}: done in {time.perf_counter() - started:.0f} s → {written[-1]}")
    if written:
        print(summary(written))
    if crashed:
        note(f"crashed: {', '.join(crashed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
