"""The Kafka worker: batches of facts into the ledger, offsets committed only after the store
commit; rejects to the dead-letter topic; score updates out after the projections catch up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from consumers.metrics import WorkerMetrics
from consumers.records import incoming_from, origin_of
from consumers.score_publisher import ScorePublisher
from consumers.topics import Topics
from domain.intake import IngestReport
from perfledger.settings import Settings
from perfledger.wiring import System
from projections.runner import spare_long_lived

RETRY_SECONDS = 1.0
PROJECT_EVERY_SECONDS = 1.0
# While facts keep coming, statements are recomputed one team (or one rep without a team) per
# transaction: a batch that arrives waits for the one in flight, which grows with the quarter.
SETTLE_REPS_BETWEEN_BATCHES = 1


def declare_topics(broker: KafkaBroker, settings: Settings, on_batch: Any) -> None:
    """The worker's topic contract: the batch subscriber on the fact topics (offsets committed
    by hand, after the store commit) and the two topics it publishes to."""
    topics = Topics(settings.kafka_topic_prefix)
    subscriber = broker.subscriber(
        *topics.inbound, batch=True, group_id=settings.kafka_group_id,
        ack_policy=AckPolicy.MANUAL, auto_offset_reset="earliest",
        max_records=settings.kafka_batch_size, batch_timeout_ms=100,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        title="perfledger.facts",
        description="CloudEvents 1.0 facts and decisions (structured mode, or binary mode with "
                    "ce_ headers), consumed in batches by the perfledger-ingest group.")
    subscriber(on_batch)
    broker.publisher(
        topics.rejects, title="perfledger.rejects",
        description="Rejected input: the original bytes as value; headers reason, source_topic, "
                    "source_partition, source_offset.")
    broker.publisher(
        topics.score_updates, title="perfledger.score-updates",
        description="perfledger.score-update/v1 JSON keyed rep_id|period on a compacted topic; "
                    "seq grows per key, a redelivered update repeats its seq.")


class Worker:
    """One consumer-group member: consume, record, commit, project, publish."""

    def __init__(self, system: System, settings: Settings, metrics: WorkerMetrics,
                 log: logging.Logger) -> None:
        self.system = system
        self.metrics = metrics
        self.log = log
        self.topics = Topics(settings.kafka_topic_prefix)
        self.broker = KafkaBroker(settings.kafka_bootstrap, client_id=settings.kafka_client_id,
                                  logger=log, graceful_timeout=30.0)
        declare_topics(self.broker, settings, self.on_batch)
        self.publisher = ScorePublisher(system.engine)
        self.wake = asyncio.Event()
        self.projecting = asyncio.Lock()  # one store or projection transaction at a time
        self._projector: asyncio.Task[None] | None = None
        self.app = FastStream(self.broker, logger=log, after_startup=[self.start_projector],
                              on_shutdown=[self.stop_projector])

    async def on_batch(self, _body: Any, message: KafkaMessage) -> None:
        """Record the batch in one store transaction, send its rejects, commit the offsets, then
        project it and publish its score updates before taking the next batch."""
        started = time.perf_counter()
        self.wake.set()  # the statements' recomputation gives way
        raw = message.raw_message
        records = tuple(raw) if isinstance(raw, (tuple, list)) else (raw,)
        items = [incoming_from(record) for record in records]
        try:
            async with self.projecting:  # SQLite has one writer: take turns with the projections
                report = await asyncio.to_thread(self.system.ledger.record_facts, items)
        except Exception:
            self.log.exception("batch not recorded; it will be consumed again",
                               extra=_batch_context(records))
            await message.nack()
            await asyncio.sleep(RETRY_SECONDS)
            return
        await self._send_rejects(report, {origin_of(r): r for r in records})
        await message.ack()
        self._observe(report, records, time.perf_counter() - started)
        await self._observe_lag(message)
        try:
            await self.catch_up()
        except Exception:  # recorded and committed: the projector's next pass retries
            self.log.exception("projection pass failed; retrying")

    async def _send_rejects(self, report: IngestReport, by_origin: dict[str, Any]) -> None:
        for rejected in report.rejected:
            record = by_origin[rejected.origin]
            await self.broker.publish(record.value or b"", self.topics.rejects, key=record.key,
                                      headers={"reason": rejected.reason,
                                               "source_topic": record.topic,
                                               "source_partition": str(record.partition),
                                               "source_offset": str(record.offset)})

    def _observe(self, report: IngestReport, records: tuple[Any, ...], seconds: float) -> None:
        self.metrics.batch_size.observe(len(records))
        self.metrics.batch_seconds.observe(seconds)
        for (outcome, kind), count in report.by_type.items():
            self.metrics.facts.labels(outcome, kind).inc(count)
        self.log.info("batch committed", extra={
            **_batch_context(records), "accepted": len(report.accepted),
            "duplicates": report.duplicates, "rejected": len(report.rejected),
            "seconds": round(seconds, 4)})

    async def _observe_lag(self, message: Any) -> None:
        consumer = getattr(message, "consumer", None)
        if consumer is None or not hasattr(consumer, "assignment"):
            return
        for partition in consumer.assignment():
            end = consumer.highwater(partition)
            if end is not None:
                position = await consumer.position(partition)
                self.metrics.lag.labels(partition.topic, str(partition.partition)).set(
                    max(0, end - position))

    async def start_projector(self) -> None:
        """Start the loop that brings projections up to date and publishes score updates, once
        what start-up made is spared the collector's passes."""
        spare_long_lived()
        self._projector = asyncio.create_task(self._project_forever())

    async def stop_projector(self) -> None:
        """Finish the projection pass in flight, settle every statement and publish."""
        if self._projector is not None:
            self._projector.cancel()
            await asyncio.gather(self._projector, return_exceptions=True)
        await self.project_once(settle_all=True)

    async def _project_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), PROJECT_EVERY_SECONDS)
            self.wake.clear()
            try:
                await self.project_once()
            except Exception:
                self.log.exception("projection pass failed; retrying")
                await asyncio.sleep(RETRY_SECONDS)

    async def catch_up(self) -> None:
        """Apply what was recorded to the projections a page at a time, publishing the score
        updates each page makes as soon as it commits."""
        runner = self.system.runner
        async with self.projecting:
            pages = runner.catching_up()
            while await asyncio.to_thread(next, pages, 0):
                await self._publish()
            for name, position in (await asyncio.to_thread(runner.positions)).items():
                self.metrics.positions.labels(name).set(position)

    async def project_once(self, *, settle_all: bool = False) -> None:
        """Catch up, then recompute stale statements a few teams per transaction, stopping
        when a batch arrives (unless `settle_all`): statements settle behind the score updates,
        which never wait for them."""
        await self.catch_up()
        steps = self.system.runner.settling(None if settle_all else SETTLE_REPS_BETWEEN_BATCHES)
        while settle_all or not self.wake.is_set():
            async with self.projecting:
                if await asyncio.to_thread(next, steps, False) is False:
                    break
                await self._publish()
        await self._publish()

    async def _publish(self) -> None:
        published = await self.publisher.publish_pending(self._send_score)
        if published:
            self.metrics.score_updates.inc(published)
            self.log.info("score updates published", extra={"count": published})

    async def _send_score(self, key: bytes, payload: bytes) -> Any:
        return await self.broker.publish(payload, self.topics.score_updates, key=key,
                                         headers={"content-type": "application/json"},
                                         no_confirm=True)


def _batch_context(records: tuple[Any, ...]) -> dict[str, Any]:
    """The topics, partitions and offset ranges of a batch, for the logs."""
    spans: dict[str, list[int]] = {}
    for record in records:
        span = spans.setdefault(f"{record.topic}/{record.partition}", [record.offset, record.offset])
        span[0], span[1] = min(span[0], record.offset), max(span[1], record.offset)
    return {"records": len(records), "offsets": {k: f"{a}-{b}" for k, (a, b) in spans.items()}}

