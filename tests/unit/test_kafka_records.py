"""Kafka records to inbound lines (structured and binary CloudEvents), the topic contract (which
type travels where, under which key), and the worker's subscriber on faststream's test broker."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from consumers.records import incoming_from, origin_of
from consumers.topics import INBOUND, TOPIC_FOR_TYPE, Topics
from consumers.worker import declare_topics
from domain.envelope import PAYLOAD_TYPES, decode_event
from domain.errors import InvalidInput
from domain.facts import DealClosed
from perfledger.settings import Settings
from perfledger.simulation import simulate
from tests.builders import (
    coaching,
    complaint,
    deal,
    delivered,
    in_memory_ledger,
    renewal,
    roster,
    target,
    wire,
)

Headers = list[tuple[str, bytes | None]]


def record(value: bytes | None, headers: Headers | None = None, *, topic: str = "perf.deals",
           partition: int = 2, offset: int = 41, key: bytes | None = b"D1") -> ConsumerRecord[Any, Any]:
    """A record as aiokafka hands it to the worker."""
    return ConsumerRecord(topic=topic, partition=partition, offset=offset, timestamp=0,
                          timestamp_type=0, key=key, value=value, checksum=None,
                          serialized_key_size=len(key or b""),
                          serialized_value_size=len(value or b""), headers=headers or [])


def binary_mode(event: dict[str, Any], *extra: tuple[str, bytes | None]) -> tuple[bytes, Headers]:
    """A CloudEvent in Kafka binary mode: attributes as `ce_` headers, `data` as the value."""
    headers: Headers = [(f"ce_{name}", str(value).encode())
                        for name, value in event.items() if name != "data"]
    return orjson.dumps(event["data"]), [("content-type", b"application/json"), *headers, *extra]


def reason_of(raw: bytes | str) -> str:
    with pytest.raises(InvalidInput) as refused:
        decode_event(raw)
    return str(refused.value)


# --- structured mode ----------------------------------------------------------------------------

def test_origin_names_topic_partition_and_offset() -> None:
    assert origin_of(record(b"{}", topic="perf.renewals", partition=0, offset=7)) == (
        "perf.renewals/0@7")


def test_a_structured_event_is_passed_through_byte_for_byte() -> None:
    value = b'{"specversion": "1.0",  "id": "crm-1", "source": "crm"}'  # spacing kept as sent
    incoming = incoming_from(record(value, [("content-type", b"application/cloudevents+json"),
                                            ("traceparent", b"00-abc-def-01")]))

    assert incoming.raw == value
    assert incoming.origin == "perf.deals/2@41"


def test_a_structured_deal_decodes_as_sent() -> None:
    sent = deal("D1", "2026-07-10", "80000.00")

    envelope = decode_event(incoming_from(record(wire(sent))).raw)

    assert envelope.key == "crm/crm-D1"
    assert isinstance(envelope.payload, DealClosed)


def test_a_tombstone_becomes_an_empty_line_that_is_rejected_with_a_reason() -> None:
    incoming = incoming_from(record(None))

    assert incoming.raw == b""
    assert reason_of(incoming.raw).startswith("json: not valid JSON")


# --- binary mode --------------------------------------------------------------------------------

def test_a_binary_mode_event_is_rebuilt_into_the_same_event_as_structured_mode() -> None:
    sent = deal("D7", "2026-07-10", "12000.00", ("alice", "owner", "0.7"), ("bob", "presales", "0.3"))
    value, headers = binary_mode(sent)

    incoming = incoming_from(record(value, headers, offset=9))
    rebuilt = decode_event(incoming.raw)

    assert incoming.origin == "perf.deals/2@9"
    assert orjson.loads(incoming.raw) == sent  # no content-type or other non-ce_ header in it
    assert rebuilt == decode_event(wire(sent))  # same key, payload and content hash
    assert isinstance(rebuilt.payload, DealClosed)
    assert [c.rep_id for c in rebuilt.payload.credits] == ["alice", "bob"]


@pytest.mark.parametrize("sent", [
    renewal("R1", "2026-07-12", "5000.00"),
    complaint("K1", "2026-07-13", deal_id="D1"),
    coaching("S1", "2026-07-14", "carol", "alice", "bob"),
    target("rep:alice", "100000.00"),
    roster("alice", "team-1"),
], ids=lambda sent: sent["type"])
def test_every_type_round_trips_through_binary_mode(sent: dict[str, Any]) -> None:
    value, headers = binary_mode(sent)

    assert decode_event(incoming_from(record(value, headers)).raw) == decode_event(wire(sent))


def test_extension_attributes_are_kept_and_null_headers_ignored() -> None:
    sent = deal("D2", "2026-07-10", "900.00")
    value, headers = binary_mode(sent, ("ce_partitionkey", b"D2"), ("ce_subject", None))

    rebuilt = orjson.loads(incoming_from(record(value, headers)).raw)

    assert rebuilt["partitionkey"] == "D2"
    assert "subject" not in rebuilt
    assert decode_event(wire(rebuilt)).content_hash == decode_event(wire(sent)).content_hash


def test_binary_mode_with_data_that_is_not_json_is_passed_through_and_rejected() -> None:
    _, headers = binary_mode(deal("D3", "2026-07-10", "900.00"))
    value = b"amount=900.00&currency=USD"

    incoming = incoming_from(record(value, headers))

    assert incoming.raw == value  # kept verbatim for the rejects topic and `perfledger rejects`
    assert reason_of(incoming.raw).startswith("json: not valid JSON")


def test_binary_mode_without_a_required_attribute_is_rejected_naming_it() -> None:
    value, headers = binary_mode(deal("D4", "2026-07-10", "900.00"))
    headers = [(name, header) for name, header in headers if name != "ce_id"]

    assert reason_of(incoming_from(record(value, headers)).raw) == "id: is required"


def test_a_ledger_records_binary_mode_once_and_rejects_what_it_cannot_read() -> None:
    """Through the writer: binary then structured mode of one event is one fact and a duplicate;
    unreadable binary data is rejected with the reason and the record's origin."""
    sent = deal("D5", "2026-07-10", "4000.00")
    value, headers = binary_mode(sent)
    ledger = in_memory_ledger()

    report = ledger.record_facts([
        incoming_from(record(value, headers, offset=1)),
        incoming_from(record(wire(sent), offset=2)),
        incoming_from(record(b"\x00\x01 not json", headers, offset=3)),
    ])

    assert report.accepted == ["crm/crm-D5"]
    assert report.duplicates == 1
    assert [(r.origin, r.reason.split(" (")[0]) for r in report.rejected] == [
        ("perf.deals/2@3", "json: not valid JSON")]


# --- the topic contract -------------------------------------------------------------------------

def test_every_known_type_has_an_inbound_topic_and_unknown_types_none() -> None:
    topics = Topics("acme.")

    assert set(TOPIC_FOR_TYPE) == set(PAYLOAD_TYPES)
    assert {topics.for_type(kind) for kind in PAYLOAD_TYPES} == set(topics.inbound)
    assert topics.for_type("deal.reopened") is None
    assert topics.for_type("") is None


def test_topic_names_share_the_prefix() -> None:
    assert Topics().inbound == ("perf.deals", "perf.renewals", "perf.complaints", "perf.coaching",
                                "perf.decisions")
    assert (Topics().rejects, Topics().score_updates) == ("perf.rejects", "perf.score-updates")
    custom = Topics("t1.")
    assert custom.inbound == tuple(f"t1.{name}" for name in INBOUND)
    assert (custom.rejects, custom.score_updates) == ("t1.rejects", "t1.score-updates")


@pytest.mark.parametrize(("sent", "topic", "key"), [
    (deal("D1", "2026-07-10", "10.00"), "perf.deals", b"D1"),
    (delivered("D1", "2026-07-20"), "perf.deals", b"D1"),
    (renewal("R1", "2026-07-12", "5.00"), "perf.renewals", None),
    (renewal("R2", "2026-07-12", "5.00", deal_id="D1"), "perf.renewals", b"D1"),
    (complaint("K1", "2026-07-13"), "perf.complaints", None),
    (complaint("K2", "2026-07-13", deal_id="D1"), "perf.complaints", b"D1"),
    (coaching("S1", "2026-07-14", "carol", "alice"), "perf.coaching", None),
    (target("rep:alice", "100.00"), "perf.decisions", None),
    (roster("alice", "team-1"), "perf.decisions", None),
], ids=lambda value: value["id"] if isinstance(value, dict) else None)
def test_routing_by_type_and_key(sent: dict[str, Any], topic: str, key: bytes | None) -> None:
    """Keyed by the deal when the event names one, else by its own id (`key` None)."""
    topics = Topics()

    assert topics.for_type(sent["type"]) == topic
    assert topics.routing_key(sent) == (key if key is not None else sent["id"].encode())


def test_the_key_falls_back_to_the_id_and_is_none_without_either() -> None:
    topics = Topics()

    assert topics.routing_key({"id": "e-1", "data": "not an object"}) == b"e-1"
    assert topics.routing_key({"id": "e-2", "data": {"deal_id": ""}}) == b"e-2"
    assert topics.routing_key({"data": {"amount": "1.00"}}) is None


def test_a_deal_lifecycle_shares_one_key_so_it_stays_in_order() -> None:
    """In a simulated quarter every event routes to a topic, and every event about a deal
    (close, delivery, cancellation) is keyed by that deal."""
    topics = Topics()
    events = list(simulate("2026-Q3", reps=16, seed=3))

    assert all(topics.for_type(e["type"]) in topics.inbound for e in events)
    lifecycles = [e for e in events if e["type"].startswith("deal.")]
    assert {e["type"] for e in lifecycles} >= {"deal.closed", "deal.delivered", "deal.cancelled"}
    for sent in lifecycles:
        assert topics.for_type(sent["type"]) == "perf.deals"
        assert topics.routing_key(sent) == sent["data"]["deal_id"].encode()


# --- the worker's subscriber on faststream's test broker -----------------------------------------

def test_the_subscriber_gets_batches_from_every_inbound_topic_and_nothing_else() -> None:
    """`declare_topics` with a stand-in handler: one batch subscriber on the five fact topics
    (not on the two the worker publishes to), whose records read back as the lines sent."""
    settings = Settings(kafka_topic_prefix="t.")
    topics = Topics(settings.kafka_topic_prefix)
    received: list[tuple[Any, ...]] = []

    async def on_batch(_body: Any, message: KafkaMessage) -> None:
        received.append(tuple(message.raw_message))

    broker = KafkaBroker("127.0.0.1:9")  # never connected: the test broker stands in
    declare_topics(broker, settings, on_batch)
    sent = {kind: wire(deal("D1", "2026-07-10", "10.00") | {"type": kind, "id": f"e-{kind}"})
            for kind in PAYLOAD_TYPES}

    async def publish() -> None:
        async with TestKafkaBroker(broker) as test_broker:
            for kind, value in sent.items():
                await test_broker.publish(value, topics.for_type(kind), key=b"D1")
            await test_broker.publish_batch(b"first", b"second", topic=topics.prefix + "coaching")
            await test_broker.publish(b"rejected", topics.rejects)
            await test_broker.publish(b"{}", topics.score_updates, key=b"alice|2026-Q3")

    asyncio.run(publish())

    assert len(broker.subscribers) == 1
    assert {p.topic for p in broker.publishers} == {topics.rejects, topics.score_updates}
    singles, batch = received[:len(sent)], received[len(sent):]
    assert all(len(records) == 1 for records in singles)
    assert {records[0].topic for records in singles} == set(topics.inbound)
    assert [incoming_from(records[0]).raw for records in singles] == list(sent.values())
    assert [[incoming_from(r).raw for r in records] for records in batch] == [[b"first", b"second"]]


def test_the_subscriber_commits_offsets_by_hand_as_one_consumer_group() -> None:
    """Offsets are committed only by the handler, after the store commit: never automatically
    (faststream's default acknowledges before the handler runs)."""
    settings = Settings(kafka_topic_prefix="t.", kafka_group_id="ingest-1", kafka_batch_size=250)
    broker = KafkaBroker("127.0.0.1:9")

    declare_topics(broker, settings, lambda _body: None)

    (subscriber,) = broker.subscribers
    assert subscriber.ack_policy is AckPolicy.MANUAL
    assert subscriber.group_id == "ingest-1"
    assert subscriber.topic_names == list(Topics("t.").inbound)
    assert subscriber.max_records == 250


def test_the_subscriber_asks_the_broker_to_answer_a_fetch_within_the_setting() -> None:
    """A fetch made only of quiet partitions is answered within the setting, not the client's
    default 500 ms, so records arriving on the busy partitions meanwhile are not held back."""
    settings = Settings(kafka_topic_prefix="t.", kafka_fetch_max_wait_ms=35)
    broker = KafkaBroker("127.0.0.1:9")

    declare_topics(broker, settings, lambda _body: None)

    (subscriber,) = broker.subscribers
    assert subscriber._connection_args["fetch_max_wait_ms"] == 35
    assert Settings().kafka_fetch_max_wait_ms == 20
