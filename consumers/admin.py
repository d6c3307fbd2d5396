"""The synchronous Kafka side (kafka-python): topic admin, publishing files, tailing score updates."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from consumers.topics import Topics

COMPACTED = {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.1",
             "segment.ms": "600000"}


def create_topics(bootstrap: str, topics: Topics, partitions: int) -> dict[str, str]:
    """Create the inbound, rejects and (compacted) score-update topics; report each outcome."""
    wanted = [NewTopic(name, partitions, 1) for name in (*topics.inbound, topics.rejects)]
    wanted.append(NewTopic(topics.score_updates, partitions, 1, topic_configs=COMPACTED))
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="perfledger-admin")
    outcome: dict[str, str] = {}
    try:
        for topic in wanted:
            try:
                admin.create_topics([topic])
                outcome[topic.name] = "created"
            except TopicAlreadyExistsError:
                outcome[topic.name] = "exists"
    finally:
        admin.close()
    return outcome


def publish_events(bootstrap: str, topics: Topics, lines: Iterable[bytes]) -> dict[str, int]:
    """Send each CloudEvent line to the topic for its type (unreadable lines to the deals topic,
    where the worker rejects them with a reason); return counts per topic."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                             client_id="perfledger-publish")
    counts: dict[str, int] = {}
    try:
        for line in lines:
            topic, key = _route(topics, line)
            producer.send(topic, value=line, key=key)
            counts[topic] = counts.get(topic, 0) + 1
        producer.flush()
    finally:
        producer.close()
    return counts


def _route(topics: Topics, line: bytes) -> tuple[str, bytes | None]:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return topics.prefix + "deals", None
    if not isinstance(event, dict):
        return topics.prefix + "deals", None
    topic = topics.for_type(str(event.get("type"))) or topics.prefix + "deals"
    return topic, topics.routing_key(event)


def tail_scores(bootstrap: str, topics: Topics, *, from_beginning: bool, rep_id: str | None,
                idle_seconds: float | None = None) -> Iterator[dict[str, Any]]:
    """Score updates as they arrive (optionally one rep's); stops after `idle_seconds` without
    a message when given, else runs until interrupted."""
    consumer = KafkaConsumer(
        topics.score_updates, bootstrap_servers=bootstrap, group_id=None,
        auto_offset_reset="earliest" if from_beginning else "latest", enable_auto_commit=False,
        consumer_timeout_ms=int(idle_seconds * 1000) if idle_seconds else float("inf"))
    try:
        for message in consumer:
            update = orjson.loads(message.value)
            if rep_id is None or update.get("rep_id") == rep_id:
                yield update
    finally:
        consumer.close()
