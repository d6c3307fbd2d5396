"""Statement and explain latency for a rep with about 1,000 commission lines, in-process after
one warm-up call each: the statement as `perfledger statement` serves it
(`System.live_statement`, from the live read model), the statement computed from the facts
(`System.statement`, what a what-if or as-known-at query does) and
`perfledger.inspection.explain`; next to the limit,
one indexed SELECT of the rep's closed deals in the period from the facts table, decoded, with the
plan's three marginal tiers applied in pure Python."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench import data
from bench.harness import PROFILES, Config, goal, mib, percentile, profiled, run_child, spread

GOAL_P99_MS = 50.0
HOT_REP = "rep-0001"


def measure(params: dict[str, Any]) -> dict[str, Any]:
    from domain.periods import Period
    from perfledger.inspection import explain
    from perfledger.settings import Settings
    from perfledger.wiring import System

    system = System(Settings(database_url=f"sqlite:///{params['store']}"))
    period = Period.parse(data.PERIOD)
    try:
        statement = system.statement(period, HOT_REP)
        if system.live_statement(period, HOT_REP) != statement.to_json():
            raise SystemExit("the served statement differs from the computed one")
        explain(system, period, HOT_REP)
        calls = {"statement": lambda: system.live_statement(period, HOT_REP),
                 "computed": lambda: system.statement(period, HOT_REP),
                 "explain": lambda: explain(system, period, HOT_REP)}
        timings: dict[str, list[float]] = {name: [] for name in calls}
        with profiled():
            for name, call in calls.items():
                for _ in range(params["queries"]):
                    started = time.perf_counter()
                    call()
                    timings[name].append((time.perf_counter() - started) * 1000)
    finally:
        system.close()
    lines = statement.to_json()["lines"]
    return {"lines": len(lines), "commission_lines": sum(1 for ln in lines if ln["kind"] == "commission"),
            **{f"{name}_p50_ms": percentile(values, 0.50) for name, values in timings.items()},
            **{f"{name}_p99_ms": percentile(values, 0.99) for name, values in timings.items()},
            **{f"{name}_max_ms": max(values) for name, values in timings.items()}}


def measure_limit(params: dict[str, Any]) -> dict[str, Any]:
    """The limit: the rep's deal rows by index, JSON-decoded, tiers applied (Decimal)."""
    import sqlite3
    from decimal import Decimal

    import orjson

    from bench.replay import tiered_totals
    from domain.plan import parse_plan

    tiers = [(t.up_to, t.rate) for t in parse_plan(data.plan_text()).commission.tiers]
    conn = sqlite3.connect(f"file:{params['store']}?mode=ro", uri=True)
    deals = ("SELECT f.data FROM facts f JOIN fact_reps r ON r.position = f.position "
             "WHERE r.rep_id = ? AND f.quarter = ? AND f.type = 'deal.closed' ORDER BY f.time")
    target = ("SELECT data FROM facts WHERE scope = ? AND target_period = ? "
              "AND type = 'target.set' ORDER BY position")

    def once() -> Decimal:
        rows = []
        for (body,) in conn.execute(deals, (HOT_REP, data.PERIOD)):
            deal = orjson.loads(body)
            amount = Decimal(deal["amount"])
            rows += [(HOT_REP, amount, Decimal(c["split"])) for c in deal["credits"]
                     if c["rep_id"] == HOT_REP]
        revenue = Decimal(0)
        for (body,) in conn.execute(target, (f"rep:{HOT_REP}", data.PERIOD)):
            decision = orjson.loads(body)
            if decision["metric"] == "revenue":
                revenue = Decimal(decision["value"])
        return tiered_totals({HOT_REP: rows}, {HOT_REP: revenue}, tiers)[HOT_REP]

    once()
    timings = []
    for _ in range(params["queries"]):
        started = time.perf_counter()
        once()
        timings.append((time.perf_counter() - started) * 1000)
    conn.close()
    return {"limit_p50_ms": percentile(timings, 0.50), "limit_p99_ms": percentile(timings, 0.99),
            "limit_max_ms": max(timings)}


MEASURES = {"measure": measure, "limit": measure_limit}


def run(config: Config) -> dict[str, Any]:
    source = data.hot_rep_file(config.hot_lines, config.hot_background, config.hot_reps)
    store = data.built_store(source)
    params = {"store": str(store), "queries": config.queries}
    runs = []
    for repetition in range(1, config.repetitions + 1):
        result = run_child("statement", "measure", params)
        limit = run_child("statement", "limit", params)
        result.update({k: v for k, v in limit.items() if k.startswith("limit_")})
        runs.append(result)
        data.note(f"statement #{repetition}: {result['lines']} lines; statement p50 "
                  f"{result['statement_p50_ms']:.1f} ms p99 {result['statement_p99_ms']:.1f} ms; "
                  f"computed p50 {result['computed_p50_ms']:.1f} ms p99 {result['computed_p99_ms']:.1f} ms; "
                  f"explain p50 {result['explain_p50_ms']:.1f} ms p99 {result['explain_p99_ms']:.1f} ms; "
                  f"limit p50 {result['limit_p50_ms']:.2f} ms p99 {result['limit_p99_ms']:.2f} ms")
    figures: dict[str, Any] = {"lines": runs[0]["lines"], "commission_lines": runs[0]["commission_lines"]}
    for name in ("statement", "computed", "explain", "limit"):
        for stat in ("p50", "p99", "max"):
            figures[f"{name}_{stat}_ms"] = spread([r[f"{name}_{stat}_ms"] for r in runs], 2)
    figures["statement_over_limit_p50"] = spread(
        [r["statement_p50_ms"] / r["limit_p50_ms"] for r in runs], 1)
    figures["computed_over_limit_p50"] = spread(
        [r["computed_p50_ms"] / r["limit_p50_ms"] for r in runs], 1)
    figures["peak_rss_mib"] = spread([mib(r["maxrss_kib"]) for r in runs])
    goals = [goal("statement p99 ≤ 50 ms (as `perfledger statement` serves it)",
                  figures["statement_p99_ms"]["median"], GOAL_P99_MS, at_most=True, unit="ms"),
             goal("statement p99 ≤ 50 ms (computed from the facts)",
                  figures["computed_p99_ms"]["median"], GOAL_P99_MS, at_most=True, unit="ms"),
             goal("explain p99 ≤ 50 ms (`perfledger explain`, the same limit)",
                  figures["explain_p99_ms"]["median"], GOAL_P99_MS, at_most=True, unit="ms")]
    return {"name": "statement",
            "params": {"rep": HOT_REP, "hot_deals": config.hot_lines,
                       "background_events": config.hot_background, "reps": config.hot_reps,
                       "queries": config.queries, "source": source.name},
            "figures": figures, "goals": goals, "runs": runs}


def profile(config: Config) -> Path:
    """The timed statement and explain calls of one run under pyinstrument."""
    store = data.built_store(data.hot_rep_file(config.hot_lines, config.hot_background,
                                               config.hot_reps))
    target = PROFILES / "statement.txt"
    run_child("statement", "measure", {"store": str(store), "queries": config.queries},
              profile=target)
    return target
