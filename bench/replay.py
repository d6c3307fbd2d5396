"""Replay of a quarter under a new plan (`perfledger replay 2026-Q3 --plan FILE --json`), in
events/s and peak RSS, next to the limit: one tight pure-Python pass over the same facts,
pre-loaded, applying the same three marginal tiers per rep against the rep's revenue target."""

from __future__ import annotations

import time
from decimal import ROUND_HALF_UP, Decimal
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

GOAL_SECONDS = 10.0
GOAL_RSS_MIB = 1024.0
GOAL_FACTOR = 3.0
CENT = Decimal("0.01")


def measure_product(params: dict[str, Any]) -> dict[str, Any]:
    """perfledger.audit.replay on the built store, lines off, nothing applied."""
    from domain.periods import Period
    from perfledger.audit import replay
    from perfledger.settings import Settings
    from perfledger.wiring import System
    from projections.pool import processes_for

    settings = Settings(database_url=f"sqlite:///{params['store']}")
    system = System(settings)
    document = data.new_plan_text()
    processes = processes_for(settings.statement_processes)
    try:
        with profiled():
            started, cpu = time.perf_counter(), cpu_seconds()
            result = replay(system, Period.parse(data.PERIOD), document, lines=False, apply=False)
            seconds = time.perf_counter() - started
            cpu = cpu_seconds() - cpu
    finally:
        system.close()
    # The pass's processes have ended: count each at the largest one's peak, on top of this one's.
    largest_kib = largest_child_rss_kib()
    return {"events": params["events"], "seconds": seconds, "cpu_seconds": cpu, "reps": len(result["reps"]),
            "new_total": result["totals"]["new_total"], "processes": processes,
            "children_rss_kib": processes * largest_kib}


def _preload(file: Path) -> tuple[dict[str, list[tuple[str, Decimal, Decimal]]], dict[str, Decimal]]:
    """Per rep, (rep_id, amount, split) of every credit on a closed deal in the period; and each
    rep's revenue target (the latest set)."""
    sales: dict[str, list[tuple[str, Decimal, Decimal]]] = {}
    targets: dict[str, Decimal] = {}
    for event in data.json_lines(file):
        kind, body = event["type"], event["data"]
        if kind == "deal.closed":
            amount = Decimal(body["amount"])
            for credit in body["credits"]:
                rep = credit["rep_id"]
                sales.setdefault(rep, []).append((rep, amount, Decimal(credit["split"])))
        elif kind == "target.set" and body["metric"] == "revenue" and body["scope"].startswith("rep:"):
            targets[body["scope"][4:]] = Decimal(body["value"])
    return sales, targets


def tiered_totals(sales: dict[str, list[tuple[str, Decimal, Decimal]]], targets: dict[str, Decimal],
                  tiers: list[tuple[Decimal | None, Decimal]]) -> dict[str, Decimal]:
    """Marginal tiers per rep: each credited amount's overlap with each band, at its rate."""
    totals: dict[str, Decimal] = {}
    zero = Decimal(0)
    for rep, rows in sales.items():
        target = targets.get(rep, zero)
        bands = []
        lower = zero
        for up_to, rate in tiers:
            upper = up_to * target if up_to is not None else None
            bands.append((lower, upper, rate))
            lower = upper if upper is not None else lower
        cumulative = total = zero
        for _rep, amount, split in rows:
            start = cumulative
            end = cumulative = start + amount * split
            for low, high, rate in bands:
                top = end if high is None or high > end else high
                bottom = start if start > low else low
                if top > bottom:
                    total += ((top - bottom) * rate).quantize(CENT, ROUND_HALF_UP)
        totals[rep] = total
    return totals


def measure_pure(params: dict[str, Any]) -> dict[str, Any]:
    """The limit: the same tiers over pre-loaded Decimal tuples (loading is not timed)."""
    from domain.plan import parse_plan

    plan = parse_plan(data.new_plan_text())
    tiers = [(tier.up_to, tier.rate) for tier in plan.commission.tiers]
    sales, targets = _preload(Path(params["file"]))
    started, cpu = time.perf_counter(), time.process_time()
    totals = tiered_totals(sales, targets, tiers)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return {"events": params["events"], "seconds": seconds, "cpu_seconds": cpu, "reps": len(totals),
            "credits": sum(len(rows) for rows in sales.values()),
            "tier_total": str(sum(totals.values(), Decimal(0)))}


MEASURES = {"product": measure_product, "pure": measure_pure}


def _one_size(config: Config, size: int) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    file = data.events_file(size, config.reps)
    store = data.built_store(file)
    params = {"file": str(file), "store": str(store), "events": size}
    runs: dict[str, list[dict[str, Any]]] = {"product": [], "pure": []}
    for repetition in range(1, config.repetitions + 1):
        for kind in ("product", "pure"):
            result = run_child("replay", kind, params)
            runs[kind].append(result)
            data.note(f"replay {size} #{repetition} {kind}: {result['seconds']:.2f} s, "
                      f"{result['events'] / result['seconds']:,.0f} events/s, "
                      f"peak RSS {mib(result['maxrss_kib']):.0f} MiB")
    product_s = [r["seconds"] for r in runs["product"]]
    pure_s = [r["seconds"] for r in runs["pure"]]
    figures = {
        "events": size,
        "product_seconds": spread(product_s, 3),
        "product_events_per_s": spread([size / s for s in product_s]),
        "product_peak_rss_mib": spread([mib(r["maxrss_kib"]) for r in runs["product"]]),
        "pure_seconds": spread(pure_s, 4),
        "pure_events_per_s": spread([size / s for s in pure_s]),
        "product_over_pure_time": spread([p / q for p, q in zip(product_s, pure_s, strict=True)], 1),
        "product_cpu_seconds": spread([r["cpu_seconds"] for r in runs["product"]], 3),
        "product_over_pure_cpu": spread([p["cpu_seconds"] / q["cpu_seconds"] for p, q in
                                         zip(runs["product"], runs["pure"], strict=True)], 1),
        "store_mib": round(store.stat().st_size / 1024 / 1024, 1),
    }
    return figures, runs


def run(config: Config) -> dict[str, Any]:
    by_size: dict[str, Any] = {}
    all_runs: dict[str, Any] = {}
    for size in config.replay_sizes:
        figures, runs = _one_size(config, size)
        by_size[str(size)] = figures
        all_runs[str(size)] = runs
    largest = by_size[str(max(config.replay_sizes))]
    label = f"{max(config.replay_sizes):,} events"
    goals = [
        goal(f"replay of {label} ≤ {GOAL_SECONDS:g} s", largest["product_seconds"]["median"],
             GOAL_SECONDS, at_most=True, unit="s"),
        goal(f"replay of {label}: peak RSS ≤ 1 GiB", largest["product_peak_rss_mib"]["max"],
             GOAL_RSS_MIB, at_most=True, unit="MiB"),
        goal(f"replay of {label} within {GOAL_FACTOR:g}× of the pure-Python pass",
             largest["product_over_pure_time"]["median"], GOAL_FACTOR, at_most=True, unit="×"),
    ]
    return {"name": "replay", "params": {"sizes": config.replay_sizes, "reps": config.reps,
                                         "period": data.PERIOD, "plan": "sample plan v2, tiers "
                                         "0.05/0.09/0.14"},
            "figures": by_size, "goals": goals, "runs": all_runs}


def profile(config: Config) -> Path:
    """One product run on the largest size under pyinstrument."""
    size = max(config.replay_sizes)
    file = data.events_file(size, config.reps)
    target = PROFILES / f"replay-{size}.txt"
    result = run_child("replay", "product", {"file": str(file), "store": str(data.built_store(file)),
                                             "events": size}, profile=target)
    data.note(f"profiled replay {size}: {result['seconds']:.2f} s")
    return target
