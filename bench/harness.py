"""Running measurements in fresh processes, summarising them and writing the results."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.data import ROOT
from bench.machine import code_version, describe

RESULTS = ROOT / "bench" / "results"
PROFILES = RESULTS / "profiles"
PROFILE_ENV = "PERFLEDGER_BENCH_PROFILE"


class BenchmarkCrashed(RuntimeError):
    """A measurement process failed."""


@dataclass
class Config:
    """Sizes and repetitions of one run of the suite."""

    quick: bool = False
    repetitions: int = 3
    reps: int = 1000
    ingest_events: int = 100_000
    naive_events: int = 10_000
    replay_sizes: list[int] = field(default_factory=lambda: [100_000, 1_000_000])
    score_rate: int = 1000
    score_seconds: float = 60.0
    score_postgres: bool = False
    hot_lines: int = 1000
    hot_background: int = 20_000
    hot_reps: int = 200
    queries: int = 200
    decode_lines: int = 30_000

    @classmethod
    def quick_mode(cls) -> Config:
        return cls(quick=True, repetitions=1, reps=20, ingest_events=500, naive_events=100,
                   replay_sizes=[500], score_rate=200, score_seconds=5.0, hot_lines=50,
                   hot_background=300, hot_reps=10, queries=5,
                   decode_lines=500)


def run_child(module: str, kind: str, params: dict[str, Any], profile: Path | None = None,
              timeout: float = 7200) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its result, with the child's peak RSS."""
    env = dict(os.environ)
    if profile is not None:
        env[PROFILE_ENV] = str(profile)
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.child", module, kind, orjson.dumps(params).decode()],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except BaseException:
        # Timed out or interrupted: SIGTERM lets the child stop what it started (a worker).
        child.terminate()
        try:
            child.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
        raise
    if child.returncode != 0:
        tail = stderr.decode(errors="replace").strip().splitlines()[-25:]
        raise BenchmarkCrashed(f"{module}.{kind} exited {child.returncode}:\n" + "\n".join(tail))
    done = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    lines = done.stdout.decode().strip().splitlines()
    if not lines:
        raise BenchmarkCrashed(f"{module}.{kind} printed no result")
    return orjson.loads(lines[-1])


@contextmanager
def profiled() -> Iterator[None]:
    """Profile the block with pyinstrument when the parent asked for it (a text report)."""
    target = os.environ.get(PROFILE_ENV)
    if not target:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.005)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(profiler.output_text(unicode=True, color=False, show_all=False))


def cpu_seconds() -> float:
    """CPU time of this process and of the ended processes it started (and waited for)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def largest_child_rss_kib() -> int:
    """The peak resident set of the largest ended process this one started."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def spread(values: Sequence[float], digits: int = 1) -> dict[str, Any]:
    """Median, min and max of a figure over the repetitions, and every run."""
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits), "runs": [round(v, digits) for v in values]}


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-share * len(ordered) // 1))))
    return ordered[rank - 1]


def mib(kib: float) -> float:
    return kib / 1024


def goal(what: str, value: float, limit: float, *, at_most: bool, unit: str) -> dict[str, Any]:
    """A goal of the issue checked against a measured figure: met, or missed by how much."""
    checked = {"goal": what, "value": round(value, 2), "limit": limit, "unit": unit,
               "at_most": at_most, "met": value <= limit if at_most else value >= limit}
    checked["verdict"] = verdict(checked)
    return checked


def verdict(checked: dict[str, Any]) -> str:
    """`met`, or how far off: the factor to gain and the absolute gap."""
    value, limit, unit = checked["value"], checked["limit"], checked["unit"]
    if checked["met"]:
        return "met"
    if checked.get("at_most", True):
        return f"missed by {value / limit:.1f}× ({value - limit:+,.1f} {unit})"
    if value <= 0:
        return "missed (nothing measured)"
    return f"missed by {limit / value:.1f}× ({limit - value:,.1f} {unit} short)"


def write_result(name: str, config: Config, body: dict[str, Any]) -> Path:
    """bench/results/<name>.json; a quick run writes bench/results/tmp/quick/<name>.json (ignored by git)."""
    folder = RESULTS / "tmp" / "quick" if config.quick else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    payload = {"benchmark": name, "mode": "quick" if config.quick else "full",
               "machine": describe(), "code": code_version(ROOT), "config": asdict(config), **body}
    path.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2) + b"\n")
    return path
