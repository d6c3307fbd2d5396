"""Prometheus metrics of the Kafka worker."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class WorkerMetrics:
    """Facts by outcome and type, batch size and latency, lag, score updates, positions."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.facts = Counter("perfledger_facts_total", "Inbound facts by outcome and type",
                             ["outcome", "type"], registry=self.registry)
        self.batch_size = Histogram("perfledger_batch_size", "Records per consumed batch",
                                    buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000),
                                    registry=self.registry)
        self.batch_seconds = Histogram("perfledger_batch_seconds",
                                       "Time from a batch's arrival to its offset commit",
                                       registry=self.registry)
        self.lag = Gauge("perfledger_consumer_lag", "Records behind the end of each partition",
                         ["topic", "partition"], registry=self.registry)
        self.score_updates = Counter("perfledger_score_updates_published_total",
                                     "Score updates published", registry=self.registry)
        self.positions = Gauge("perfledger_projection_position",
                               "Notification-log position of each projection", ["projection"],
                               registry=self.registry)

    def serve(self, port: int) -> None:
        """Serve /metrics on the port."""
        start_http_server(port, registry=self.registry)
