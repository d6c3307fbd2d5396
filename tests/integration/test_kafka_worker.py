"""The Kafka worker on a real broker and a real store: a simulated quarter in, the same
statements as a file ingest, score updates out; crashes, poison and broker restarts."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from domain.intake import Incoming
from perfledger.settings import Settings
from perfledger.simulation import simulate
from perfledger.wiring import System
from projections.tables import live_statements
from tests.integration.kafka_harness import (
    ROOT,
    StoreProbe,
    WorkerProcess,
    fresh_topics,
    perfledger,
    produce,
    produce_raw,
    read_topic,
    wait_for,
    worker_env,
)

pytestmark = [pytest.mark.integration, pytest.mark.kafka]
PLAN = str(resources.files("perfledger").joinpath("samples/plan.yaml"))


def quarter(seed: int, reps: int = 8) -> list[dict[str, Any]]:
    return list(simulate("2026-Q3", reps=reps, seed=seed))


def statements_of(database_url: str) -> dict[tuple[str, str], str]:
    """Every live statement of a store, as stored JSON."""
    system = System(Settings(database_url=database_url))
    try:
        system.runner.catch_up()
        with system.engine.connect() as conn:
            rows = conn.execute(select(live_statements.c.rep_id, live_statements.c.period,
                                       live_statements.c.statement))
            return {(row.rep_id, row.period): row.statement for row in rows}
    finally:
        system.close()


def assert_same_statements(live: dict[tuple[str, str], str],
                           reference: dict[tuple[str, str], str]) -> None:
    """Equal statements, or a failure naming the first (rep, period) that differs."""
    assert sorted(live) == sorted(reference)
    for key in sorted(reference):
        assert orjson.loads(live[key]) == orjson.loads(reference[key]), key


def reference_statements(tmp_path: Path, events: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """The statements a plain file ingest of the same events gives."""
    url = f"sqlite:///{tmp_path / 'reference.db'}"
    system = System(Settings(database_url=url))
    try:
        system.ledger.publish_plan(Path(PLAN).read_text())
        system.ingest(Incoming(orjson.dumps(e)) for e in events)
    finally:
        system.close()
    return statements_of(url)


@pytest.fixture
def worker_setup(database_url: str, kafka_bootstrap: str) -> Iterator[dict[str, Any]]:
    topics = fresh_topics()
    env = worker_env(database_url, kafka_bootstrap, topics)
    perfledger(env, "topics", "create")
    perfledger(env, "plan", "publish", PLAN)
    probe = StoreProbe(database_url)
    yield {"topics": topics, "env": env, "probe": probe, "url": database_url,
           "bootstrap": kafka_bootstrap}
    probe.close()


def test_a_quarter_through_kafka_gives_the_file_ingest_statements_and_score_updates(
        worker_setup: dict[str, Any], tmp_path: Path) -> None:
    events = quarter(seed=11)
    produce(worker_setup["bootstrap"], worker_setup["topics"], events)
    worker = WorkerProcess(worker_setup["env"], tmp_path / "worker.log")
    try:
        wait_for(lambda: worker_setup["probe"].settled(len(events)), 180, "the quarter to settle")
    finally:
        assert worker.stop() == 0, (tmp_path / "worker.log").read_text()[-2000:]

    live = statements_of(worker_setup["url"])
    assert_same_statements(live, reference_statements(tmp_path, events))

    updates = read_topic(worker_setup["bootstrap"], worker_setup["topics"].score_updates)
    last: dict[str, dict[str, Any]] = {}
    for message in updates:
        update = orjson.loads(message.value)
        assert message.key.decode() == f"{update['rep_id']}|{update['period']}"
        assert update["schema"] == "perfledger.score-update/v1"
        previous = last.get(message.key.decode())
        assert previous is None or update["seq"] >= previous["seq"]
        last[message.key.decode()] = update
    assert set(last) == {f"{rep}|{period}" for rep, period in live}
    for (rep, period), statement in live.items():
        shown = orjson.loads(statement)
        update = last[f"{rep}|{period}"]
        assert update["commission_to_date"] == shown["total"]
        assert update["credited_revenue"] == shown["credited_revenue"]
        assert update["caused_by"], "an update names the events behind it"


def test_a_worker_killed_mid_stream_and_restarted_loses_and_doubles_nothing(
        worker_setup: dict[str, Any], tmp_path: Path) -> None:
    events = quarter(seed=12, reps=20)
    produce(worker_setup["bootstrap"], worker_setup["topics"], events)
    probe = worker_setup["probe"]
    small_batches = {**worker_setup["env"], "PERFLEDGER_KAFKA_BATCH_SIZE": "20"}
    worker = WorkerProcess(small_batches, tmp_path / "worker.log")
    wait_for(lambda: probe.facts() > 0, 120, "the first batch", interval=0.05)
    worker.kill()
    assert probe.facts() < len(events), "the crash came mid-stream"

    restarted = WorkerProcess(small_batches, tmp_path / "worker.log")
    try:
        wait_for(lambda: probe.settled(len(events)), 180, "the quarter to settle after restart")
    finally:
        assert restarted.stop() == 0
    assert probe.facts() == len(events)
    assert_same_statements(statements_of(worker_setup["url"]), reference_statements(tmp_path, events))


def test_poison_goes_to_the_rejects_topic_with_reasons_and_the_rest_is_processed(
        worker_setup: dict[str, Any], tmp_path: Path) -> None:
    topics, bootstrap = worker_setup["topics"], worker_setup["bootstrap"]
    events = quarter(seed=13, reps=4)[:200]
    poison = [b"{not json", orjson.dumps({**events[-1], "id": "bad-split", "data": {
        **events[-1]["data"], "credits": [{"rep_id": "x", "role": "owner", "split": "0.9"}]}}
        if events[-1]["type"] == "deal.closed" else {"specversion": "1.0", "id": "bad-type",
                                                     "source": "crm", "type": "deal.won",
                                                     "time": "2026-07-02T00:00:00Z", "data": {}})]
    produce(bootstrap, topics, events[:100])
    for value in poison:
        produce_raw(bootstrap, topics.prefix + "deals", value)
    binary = {"specversion": "1.0", "id": "binary-1", "source": "lms",
              "type": "coaching.session_held", "time": "2026-07-03T10:00:00Z"}
    produce_raw(bootstrap, topics.prefix + "coaching", orjson.dumps(
        {"session_id": "S-bin", "coach_id": "rep-0001", "rep_ids": ["rep-0002"],
         "topic": "discovery", "minutes": 45}),
        headers=[(f"ce_{k}", v.encode()) for k, v in binary.items()])
    produce(bootstrap, topics, events[100:])

    worker = WorkerProcess(worker_setup["env"], tmp_path / "worker.log")
    try:
        wait_for(lambda: worker_setup["probe"].settled(len(events) + 1), 180, "all valid facts")
        rejected = read_topic(bootstrap, topics.rejects)
    finally:
        assert worker.stop() == 0
    assert sorted(m.value for m in rejected) == sorted(poison)
    for message in rejected:
        headers = {k: v.decode() for k, v in message.headers}
        assert headers["source_topic"] == topics.prefix + "deals"
        assert int(headers["source_offset"]) >= 0
        assert "source_partition" in headers
        assert headers["reason"].split(":")[0] in ("json", "type", "data.credits")
    stored = orjson.loads(perfledger(worker_setup["env"], "rejects", "--json").stdout)
    assert sorted(row["raw"].encode() for row in stored) == sorted(poison)


def test_the_worker_rides_out_a_broker_restart(sqlite_url: str, tmp_path: Path) -> None:
    port, state = "9392", str(tmp_path / "kafka-state")
    script = [str(ROOT / "deploy/local/kafka.sh")]
    service_env = {"PERFLEDGER_STATE": state, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"}
    bootstrap = subprocess.run([*script, "start", port], env=service_env, check=True,
                               capture_output=True, text=True).stdout.strip()
    try:
        topics = fresh_topics()
        env = worker_env(sqlite_url, bootstrap, topics)
        perfledger(env, "topics", "create")
        perfledger(env, "plan", "publish", PLAN)
        events = quarter(seed=14, reps=6)
        half = len(events) // 2
        produce(bootstrap, topics, events[:half])
        probe = StoreProbe(sqlite_url)
        worker = WorkerProcess(env, tmp_path / "worker.log")
        try:
            wait_for(lambda: probe.facts() >= half, 120, "the first half")
            subprocess.run([*script, "restart", port], env=service_env, check=True,
                           capture_output=True)
            time.sleep(1)
            produce(bootstrap, topics, events[half:])
            wait_for(lambda: probe.settled(len(events)), 180, "the second half after a restart")
            assert worker.alive()
        finally:
            worker.stop()
            probe.close()
        assert_same_statements(statements_of(sqlite_url), reference_statements(tmp_path, events))
    finally:
        subprocess.run([*script, "stop", port], check=False, env=service_env, capture_output=True)
