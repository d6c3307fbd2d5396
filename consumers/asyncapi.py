"""The AsyncAPI document of the worker's topics (`make asyncapi` writes it to docs/)."""

from __future__ import annotations

from typing import Any

from faststream import FastStream
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from consumers.worker import declare_topics
from perfledger.settings import Settings


async def _documented_only(_body: Any) -> None:
    """Stands for the worker's handler: documents the contract, never runs."""


def app() -> FastStream:
    """The FastStream app whose schema is the topic contract; builds no store, connects to nothing."""
    settings = Settings()
    broker = KafkaBroker(settings.kafka_bootstrap, description="perfledger's Kafka contract")
    declare_topics(broker, settings, _documented_only)
    return FastStream(broker, specification=AsyncAPI(title="perfledger", version="1"))
