"""Running the Kafka worker as a real process, feeding it with an independent client, and
waiting for it to finish; shared by the Kafka integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import create_engine, func, select

from consumers.topics import Topics
from projections.tables import facts, projection_positions, score_updates, stale_statements

ROOT = Path(__file__).resolve().parents[2]


def fresh_topics() -> Topics:
    """Topic names no other test uses."""
    return Topics(prefix=f"t{uuid.uuid4().hex[:10]}.")


def worker_env(database_url: str, bootstrap: str, topics: Topics) -> dict[str, str]:
    """The environment a worker process runs with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFLEDGER_")}
    env.update({"PERFLEDGER_DATABASE_URL": database_url, "PERFLEDGER_KAFKA_BOOTSTRAP": bootstrap,
                "PERFLEDGER_KAFKA_TOPIC_PREFIX": topics.prefix,
                "PERFLEDGER_KAFKA_GROUP_ID": f"{topics.prefix}ingest",
                "PERFLEDGER_KAFKA_BATCH_SIZE": "200"})
    return env


def perfledger(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run a perfledger command to completion; fail loudly on a non-zero exit."""
    done = subprocess.run([sys.executable, "-m", "perfledger", *args], check=False, env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


class WorkerProcess:
    """`perfledger consume` in a subprocess, stopped gracefully or killed."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "perfledger", "consume"], env=env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=log.open("ab"))

    def stop(self) -> int:
        """SIGTERM: the batch in flight finishes; return the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        """kill -9: no chance to commit anything in flight."""
        self.process.kill()
        self.process.wait(timeout=30)

    def alive(self) -> bool:
        return self.process.poll() is None


def produce(bootstrap: str, topics: Topics, events: Iterable[dict[str, Any]]) -> int:
    """Send CloudEvents (structured mode) to the topics for their types with kafka-python."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    sent = 0
    for event in events:
        topic = topics.for_type(event["type"])
        assert topic is not None
        producer.send(topic, value=orjson.dumps(event), key=topics.routing_key(event))
        sent += 1
    producer.flush()
    producer.close()
    return sent


def produce_raw(bootstrap: str, topic: str, value: bytes,
                headers: list[tuple[str, bytes]] | None = None) -> None:
    """Send one raw message (poison, or a binary-mode CloudEvent)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    producer.send(topic, value=value, headers=headers or [])
    producer.flush()
    producer.close()


def read_topic(bootstrap: str, topic: str, idle_seconds: float = 5.0) -> list[Any]:
    """Every message on a topic, from the beginning, until it has been quiet for a while."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=int(idle_seconds * 1000))
    messages = list(consumer)
    consumer.close()
    return messages


class StoreProbe:
    """Reads a store's progress without taking part in it."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url)

    def facts(self) -> int:
        with self.engine.connect() as conn:
            try:
                return int(conn.execute(select(func.count()).select_from(facts)).scalar() or 0)
            except Exception:  # the worker has not created the read models yet
                return 0

    def settled(self, expected_facts: int) -> bool:
        """All facts projected, no stale statement, every score update published."""
        if self.facts() < expected_facts:
            return False
        with self.engine.connect() as conn:
            stale = conn.execute(select(func.count()).select_from(stale_statements)).scalar()
            outbox = conn.execute(select(func.max(score_updates.c.id))).scalar() or 0
            published = conn.execute(select(projection_positions.c.position).where(
                projection_positions.c.name == "score-updates-published")).scalar() or 0
        return stale == 0 and published == outbox

    def close(self) -> None:
        self.engine.dispose()


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             interval: float = 0.5) -> None:
    """Poll until the condition holds, or fail naming what was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
