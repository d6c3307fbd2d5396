"""The tour: a plan, a simulated quarter, a mid-period revision, and what the ledger shows."""

from __future__ import annotations

import tempfile
import time
from importlib import resources
from pathlib import Path

import orjson
from rich.console import Console

from domain.intake import Incoming
from domain.periods import Period
from perfledger import render
from perfledger.settings import Settings
from perfledger.simulation import simulate
from perfledger.wiring import System
from projections.attainment import attainment
from projections.collaboration import collaboration

PERIOD = "2026-Q3"
REPS = 40
SEED = 7


def run_demo(console: Console) -> None:
    """Run the whole tour in a temporary SQLite store and print what a user would look at."""
    with tempfile.TemporaryDirectory(prefix="perfledger-demo-") as folder:
        store = Path(folder) / "demo.db"
        system = System(Settings(database_url=f"sqlite:///{store}"))
        try:
            _tour(console, system)
        finally:
            system.close()


def _tour(console: Console, system: System) -> None:
    period = Period.parse(PERIOD)
    document = resources.files("perfledger").joinpath("samples/plan.yaml").read_text()
    plan = system.ledger.publish_plan(document)
    console.rule("[bold]perfledger demo")
    console.print(f"published plan {plan.ref} (sha256 {plan.sha256[:12]}…)")

    started = time.perf_counter()
    events = [Incoming(orjson.dumps(e), f"simulated:{n}")
              for n, e in enumerate(simulate(PERIOD, REPS, SEED), start=1)]
    report = system.ingest(events)
    console.print(f"ingested a simulated {PERIOD}: {len(report.accepted)} accepted, "
                  f"{report.duplicates} duplicates, {len(report.rejected)} rejected "
                  f"in {time.perf_counter() - started:.1f}s")

    rep_id = _busiest_enterprise_rep(system, period)
    before = system.statement(period, rep_id)
    revision = {"specversion": "1.0", "id": "demo-revision-1", "source": "salesops",
                "type": "target.set", "time": "2026-08-16T09:00:00Z",
                "data": {"scope": f"rep:{rep_id}", "metric": "revenue", "period": PERIOD,
                         "value": str(before.effective_targets["revenue"].value * 3 / 4),
                         "effective_from": "2026-08-16", "reason": "competitor price cut",
                         "approved_by": "vp-sales"}}
    system.ingest([Incoming(orjson.dumps(revision), "demo")])
    after = system.statement(period, rep_id)
    console.print(f"revised {rep_id}'s revenue target by -25% from 2026-08-16 (competitor "
                  f"price cut): effective target {before.effective_targets['revenue'].value} → "
                  f"{after.effective_targets['revenue'].value}, commission {before.total} → "
                  f"{after.total}")

    with system.engine.connect() as conn:
        render.attainment(console, attainment(conn, period, plan), limit=12)
        render.statement(console, after.to_json())
        render.collaboration(console, collaboration(conn, period), limit=5)


def _busiest_enterprise_rep(system: System, period: Period) -> str:
    """The rep with the highest credited revenue, whose statement has the richest story."""
    with system.engine.connect() as conn:
        figures = attainment(conn, period, system.plan_for(period))
    ranked = sorted(figures["reps"], key=lambda r: -float(r["credited_revenue"]))
    return str(ranked[0]["rep_id"])
