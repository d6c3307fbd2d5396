"""What a batch records, written as the event store's rows without building aggregates.

Each row is the stored event eventsourcing's mapper makes of the aggregate event it stands for:
the event class's topic, and the event's attributes (less the originator's id and version) as
compact JSON, the timestamp transcoded as `datetime_iso`. The repository reads them back into the
same aggregates. Building an aggregate per fact and mapping its event took half the time of
recording a batch, and a batch only ever creates facts or appends to a deal.

Once inserted, the batch's events are also handed over as the notification log would give them
back (`logged`): their state is JSON-ready data, which reads back as itself, so the projections
apply them without selecting and decoding what was just written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.utils import get_topic

from domain.aggregates import CREATION_EVENT, KeyClaim, Rejection

CREATED: dict[type[Aggregate], type[Aggregate.Created]] = {
    KeyClaim: KeyClaim.Claimed, Rejection: Rejection.Recorded,
    **dict(CREATION_EVENT.items())}
TOPICS: dict[type[Any], str] = {}


class Recording:
    """The stored events of one batch, grouped by aggregate in the order each was first touched
    (as saving the aggregates themselves would order them)."""

    def __init__(self, recorded_at: datetime) -> None:
        self.recorded_at = recorded_at
        self.timestamp = {"_type_": "datetime_iso", "_data_": recorded_at.isoformat()}
        self.by_aggregate: dict[UUID, list[tuple[StoredEvent, type[Any], dict[str, Any]]]] = {}

    def create(self, cls: type[Aggregate], aggregate_id: UUID, fields: dict[str, Any]) -> None:
        """Record the creation of an aggregate of `cls` (version 1) with its event's fields."""
        state = {"timestamp": self.timestamp, "originator_topic": _topic(cls), **fields}
        self._add(aggregate_id, 1, CREATED[cls], state)

    def append(self, event_class: type[Aggregate.Event], aggregate_id: UUID, version: int,
               fields: dict[str, Any]) -> None:
        """Record an event of an existing aggregate at `version`, with its fields."""
        self._add(aggregate_id, version, event_class, {"timestamp": self.timestamp, **fields})

    def stored_events(self) -> list[StoredEvent]:
        """Everything recorded, to be inserted in one transaction."""
        return [stored for events in self.by_aggregate.values() for stored, _, _ in events]

    def logged(self, positions: list[int]) -> list[tuple[int, Any, Notification]]:
        """Each of `stored_events()` at its position in the notification log (as inserted), with
        the domain event the store's mapper would decode from it: the same state, its timestamp
        a datetime, and the originator's id and version."""
        entries = [entry for events in self.by_aggregate.values() for entry in events]
        if len(positions) != len(entries):
            raise ValueError(f"{len(positions)} positions for {len(entries)} recorded events")
        logged = []
        for position, (stored, event_class, state) in zip(positions, entries, strict=True):
            event = object.__new__(event_class)
            object.__setattr__(event, "__dict__", {
                **state, "timestamp": self.recorded_at, "originator_id": stored.originator_id,
                "originator_version": stored.originator_version})
            logged.append((position, event, Notification(
                originator_id=stored.originator_id, originator_version=stored.originator_version,
                topic=stored.topic, state=stored.state, id=position)))
        return logged

    def _add(self, aggregate_id: UUID, version: int, event_class: type[Any],
             state: dict[str, Any]) -> None:
        stored = StoredEvent(aggregate_id, version, _topic(event_class), orjson.dumps(state))
        self.by_aggregate.setdefault(aggregate_id, []).append((stored, event_class, state))


def _topic(cls: type[Any]) -> str:
    topic = TOPICS.get(cls)
    if topic is None:
        topic = TOPICS[cls] = get_topic(cls)
    return topic
