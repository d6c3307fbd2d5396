"""`perfledger rebuild`: every read model dropped and built again from the log, identically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, update

from domain.ledger import Ledger
from perfledger.simulation import simulate
from perfledger.wiring import event_store_env, utc_now
from projections.tables import collaboration_edges, facts, live_statements, rejects
from tests.builders import deal, event, target
from tests.conftest import Cli, write_jsonl
from tests.integration.read_models import (
    count_rows,
    differences,
    dump_read_models,
    incoming,
    positions,
    sample_plan,
)

pytestmark = pytest.mark.integration

SEED = 8


def later_events(quarter: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Facts and decisions that reach back into the quarter: a Q3 deal delivered in Q4 and then
    cancelled in 2027-Q1, a rep moving team, a team target and a rep's target revised."""
    touched = {e["data"]["deal_id"] for e in quarter
               if e["type"] in ("deal.delivered", "deal.cancelled")}
    closed = next(e["data"]["deal_id"] for e in quarter if e["type"] == "deal.closed"
                  and e["data"]["product_line"] == "enterprise" and e["data"]["deal_id"] not in touched)
    first = [
        event("deal.delivered", "late-delivery", "2026-10-20T10:00:00Z", {"deal_id": closed}),
        event("roster.assigned", "late-move", "2026-08-20T00:00:00Z",
              {"rep_id": "rep-0003", "team_id": "team-02", "effective_from": "2026-08-20"},
              source="salesops"),
        target("team:team-01", "900000.00", "2026-08-01", event_id="late-team-target"),
        target("rep:rep-0002", "1000.00", "2026-09-01", event_id="late-rep-revision"),
    ]
    second = [event("deal.cancelled", "late-cancellation", "2027-01-05T10:00:00Z",
                    {"deal_id": closed, "reason": "churn"})]
    return first, second


def test_rebuild_gives_identical_read_models(cli: Cli, database_url: str, tmp_path: Path) -> None:
    """Built incrementally by several ingests, then tampered with, the read models come back
    from `perfledger rebuild` row for row as they were."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(sample_plan(), encoding="utf-8")
    quarter = list(simulate("2026-Q3", reps=12, seed=SEED))
    first, second = later_events(quarter)
    feeds = [write_jsonl(tmp_path / "q3.jsonl", [*quarter, {"type": "deal.closed"}]),
             write_jsonl(tmp_path / "later.jsonl", first),
             write_jsonl(tmp_path / "latest.jsonl", second)]
    cli.json("plan", "publish", str(plan))
    counts = [cli.json("ingest", str(feed)) for feed in feeds]
    engine = create_engine(database_url)
    try:
        built = dump_read_models(engine)
        last = positions(engine)
        with engine.begin() as conn:
            conn.execute(delete(facts).where(facts.c.type == "deal.closed"))
            conn.execute(delete(collaboration_edges))
            conn.execute(update(live_statements).values(total="0.00"))

        replayed = cli.json("rebuild")
        rebuilt = dump_read_models(engine)
        rows = {table: count_rows(engine, table) for table in (facts, rejects, collaboration_edges,
                                                                live_statements)}
    finally:
        engine.dispose()

    assert counts == [{"accepted": len(quarter), "duplicates": 0, "rejected": 1},
                      {"accepted": len(first), "duplicates": 0, "rejected": 0},
                      {"accepted": len(second), "duplicates": 0, "rejected": 0}]
    assert set(last.values()) == {replayed["replayed"]}
    assert rows[facts] == len(quarter) + len(first) + len(second)
    assert rows[rejects] == 1
    assert rows[collaboration_edges] > 0
    assert rows[live_statements] > 0
    assert differences(built, rebuilt) == {}
    assert rebuilt == built


def test_rebuild_of_a_store_never_projected(cli: Cli, database_url: str) -> None:
    """Events recorded by the ledger alone are projected by a first `rebuild`."""
    ledger = Ledger(event_store_env(database_url), clock=utc_now)
    try:
        ledger.publish_plan(sample_plan())
        report = ledger.record_facts(incoming([target("rep:alice", "200000.00"),
                                               deal("D1", "2026-07-10", "80000.00")]))
        recorded = ledger.recorder.max_notification_id()
    finally:
        ledger.close()

    replayed = cli.json("rebuild")
    shown = cli.json("statement", "2026-Q3", "--rep", "alice")

    assert len(report.accepted) == 2
    assert replayed == {"replayed": recorded}
    assert (shown["credited_revenue"], shown["total"]) == ("80000.00", "3200.00")
