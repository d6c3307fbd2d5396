"""The CloudEvents 1.0 envelope (structured mode) and its decoding into typed events."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from domain.decisions import RosterAssigned, TargetSet
from domain.errors import InvalidInput
from domain.facts import (
    CoachingSessionHeld,
    ComplaintLogged,
    DealCancelled,
    DealClosed,
    DealDelivered,
    Payload,
    RenewalBooked,
)
from domain.fields import ID_TEXT

PAYLOAD_TYPES: dict[str, type[Payload]] = {
    "deal.closed": DealClosed,
    "deal.delivered": DealDelivered,
    "deal.cancelled": DealCancelled,
    "renewal.booked": RenewalBooked,
    "complaint.logged": ComplaintLogged,
    "coaching.session_held": CoachingSessionHeld,
    "target.set": TargetSet,
    "roster.assigned": RosterAssigned,
}
DECISION_TYPES = frozenset({"target.set", "roster.assigned"})
LIFECYCLE_TYPES = frozenset({"deal.delivered", "deal.cancelled"})


class CloudEvent(BaseModel):
    """The envelope fields perfledger reads; CloudEvents extensions are allowed and ignored."""

    model_config = ConfigDict(extra="allow", frozen=True)
    specversion: Literal["1.0"]
    id: ID_TEXT
    source: ID_TEXT
    type: str
    time: datetime
    data: dict[str, Any]

    @field_validator("time")
    @classmethod
    def check_time_has_zone(cls, time: datetime) -> datetime:
        if time.tzinfo is None:
            raise ValueError("must carry a UTC offset, e.g. 2026-07-10T14:03:00Z")
        return time.astimezone(UTC)

    @field_validator("type")
    @classmethod
    def check_type_known(cls, kind: str) -> str:
        if kind not in PAYLOAD_TYPES:
            raise ValueError(f"unknown event type {kind!r} (known: {', '.join(PAYLOAD_TYPES)})")
        return kind


@dataclass(frozen=True)
class Envelope:
    """A validated inbound event: its idempotency key, business time, payload and content hash,
    with the canonical forms the hash was taken of (`seal` makes one)."""

    source: str
    id: str
    type: str
    time: datetime
    payload: Payload
    content_hash: str
    stored_time: str  # the business time as stored and hashed (format_time)
    stored_data: dict[str, Any]  # the payload as JSON-ready data, decimals as strings

    @property
    def key(self) -> str:
        """The idempotency key `source/id`."""
        return f"{self.source}/{self.id}"

    def data(self) -> dict[str, Any]:
        """The payload as JSON-ready data, decimals as strings."""
        return self.stored_data


def seal(source: str, event_id: str, kind: str, time: datetime, payload: Payload) -> Envelope:
    """The envelope of a validated payload: its canonical time and data, and their hash."""
    stored_time = format_time(time)
    data = payload.model_dump(mode="json", exclude_none=True)
    digest = content_hash(source, event_id, kind, stored_time, data)
    return Envelope(source, event_id, kind, time, payload, digest, stored_time, data)


def format_time(time: datetime) -> str:
    """Business time in the canonical form stored and hashed: ISO 8601 UTC with `Z`."""
    return time.astimezone(UTC).isoformat().replace("+00:00", "Z")


def content_hash(source: str, event_id: str, kind: str, time: str, data: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of an event's identity, type, time and data."""
    canonical = {"data": data, "id": event_id, "source": source, "time": time, "type": kind}
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _first_error(error: ValidationError, prefix: str) -> InvalidInput:
    detail = error.errors()[0]
    location = ".".join(str(part) for part in (prefix, *detail["loc"]) if part != "")
    message = str(detail["msg"]).removeprefix("Value error, ")
    if detail["type"] == "missing":
        message = "is required"
    return InvalidInput(location or "event", message)


def decode_event(raw: bytes | str | dict[str, Any]) -> Envelope:
    """Return the validated envelope of one CloudEvent, or raise InvalidInput naming the field."""
    if isinstance(raw, dict):
        document = raw
    else:
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise InvalidInput("json", f"not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise InvalidInput("event", "must be a JSON object")
    try:
        envelope = CloudEvent.model_validate(document)
    except ValidationError as error:
        raise _first_error(error, "") from None
    try:
        payload = PAYLOAD_TYPES[envelope.type].model_validate(envelope.data)
    except ValidationError as error:
        raise _first_error(error, "data") from None
    return seal(envelope.source, envelope.id, envelope.type, envelope.time, payload)
