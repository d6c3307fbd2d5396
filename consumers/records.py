"""Kafka records to inbound lines: structured-mode CloudEvents as they are, binary mode rebuilt."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from domain.intake import Incoming

CE_PREFIX = "ce_"


def origin_of(record: Any) -> str:
    """Where a record came from: `topic/partition@offset`."""
    return f"{record.topic}/{record.partition}@{record.offset}"


def incoming_from(record: Any) -> Incoming:
    """The inbound line a record carries. Binary-mode CloudEvents (attributes in `ce_` headers,
    data as the value) are rebuilt as a structured-mode event."""
    headers = _headers(record.headers or ())
    if "ce_specversion" not in headers:
        return Incoming(record.value or b"", origin_of(record))
    event: dict[str, Any] = {name.removeprefix(CE_PREFIX): value
                             for name, value in headers.items() if name.startswith(CE_PREFIX)}
    try:
        event["data"] = orjson.loads(record.value or b"null")
    except orjson.JSONDecodeError:
        return Incoming(record.value or b"", origin_of(record))
    return Incoming(orjson.dumps(event), origin_of(record))


def _headers(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    return {key: value.decode("utf-8", "replace") for key, value in headers if value is not None}
