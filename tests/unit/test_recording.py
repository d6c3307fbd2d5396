"""The intake writes stored events directly: they must be the very rows eventsourcing's mapper
makes of the aggregates' own events, and read back into the same aggregates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from domain.aggregates import (
    AGGREGATE_FOR_TYPE,
    LIFECYCLE_EVENT,
    Deal,
    KeyClaim,
    Rejection,
    created_id,
    deal_id_of,
    envelope_fields,
    fact_id,
    rejection_id,
)
from domain.envelope import LIFECYCLE_TYPES, Envelope, decode_event
from domain.ledger import Ledger
from domain.recording import Recording
from tests.builders import (
    cancelled,
    coaching,
    complaint,
    deal,
    delivered,
    lines_of,
    renewal,
    roster,
    target,
)

AT = datetime(2026, 7, 1, 12, 0, 0, 123_456, tzinfo=UTC)
ODD = 'quote " back\\slash \n tab\t ctrl\x01\x1f del\x7f é 中文 \u2028 😀'


def envelopes() -> list[Envelope]:
    raw = [
        deal("D-1", "2026-07-03", "1200.50", ("alice", "owner", "0.7"), ("bob", "presales", "0.3")),
        renewal("R-1", "2026-07-04", "300"),
        delivered("D-1", "2026-07-20"),
        deal("D-2", "2026-07-05", "80"),
        cancelled("D-1", "2026-07-25", reason=ODD),
        complaint("K-1", "2026-07-26", deal_id="D-1"),
        coaching("S-1", "2026-07-27", "mgr", "alice", "bob", minutes=45),
        target("rep:alice", "100000"),
        roster("alice", "team-1"),
    ]
    return [decode_event(line.raw) for line in lines_of(*raw)]


def the_eventsourcing_way(found: list[Envelope]) -> list[StoredEvent]:
    """The rows `Application.save` would write for the same aggregates."""
    mapper = Application[Any]({"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper
    aggregates: dict[Any, Aggregate] = {}
    for envelope in found:
        if envelope.type in LIFECYCLE_TYPES:
            closed = aggregates[deal_id_of(envelope.data()["deal_id"])]
            closed.trigger_event(LIFECYCLE_EVENT[envelope.type], timestamp=AT,
                                 **envelope_fields(envelope))
        else:
            aggregate_id = created_id(envelope)
            aggregates[aggregate_id] = AGGREGATE_FOR_TYPE[envelope.type].record(
                envelope, aggregate_id, AT)
        if envelope.type.startswith("deal."):
            aggregates[fact_id(envelope.key)] = KeyClaim.claim(envelope, AT)
    rejection = Rejection._create(Rejection.Recorded, id=rejection_id("r"), timestamp=AT,
                                  raw=ODD, reason="data.amount: is required", origin="f:3")
    aggregates[rejection.id] = rejection
    return [mapper.to_stored_event(e) for a in aggregates.values() for e in a.collect_events()]


def the_recording_way(found: list[Envelope]) -> list[StoredEvent]:
    recording, versions = Recording(AT), {}
    for envelope in found:
        if envelope.type in LIFECYCLE_TYPES:
            deal_id = deal_id_of(envelope.data()["deal_id"])
            versions[deal_id] += 1
            recording.append(LIFECYCLE_EVENT[envelope.type], deal_id, versions[deal_id],
                             envelope_fields(envelope))
        else:
            aggregate_id = created_id(envelope)
            versions[aggregate_id] = 1
            recording.create(AGGREGATE_FOR_TYPE[envelope.type], aggregate_id,
                             envelope_fields(envelope))
        if envelope.type.startswith("deal."):
            recording.create(KeyClaim, fact_id(envelope.key),
                             {"key": envelope.key, "content_hash": envelope.content_hash})
    recording.create(Rejection, rejection_id("r"),
                     {"raw": ODD, "reason": "data.amount: is required", "origin": "f:3"})
    return recording.stored_events()


def test_recorded_rows_are_the_rows_eventsourcing_writes_byte_for_byte() -> None:
    found = envelopes()
    expected, written = the_eventsourcing_way(found), the_recording_way(found)
    assert [(s.originator_id, s.originator_version, s.topic) for s in written] == [
        (s.originator_id, s.originator_version, s.topic) for s in expected]
    for ours, theirs in zip(written, expected, strict=True):
        assert ours.state == theirs.state, orjson.loads(ours.state)


def test_a_recorded_deal_reads_back_with_its_lifecycle(tmp_path: Path) -> None:
    ledger = Ledger({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                     "SQLITE_DBNAME": str(tmp_path / "store.db")}, clock=lambda: AT)
    try:
        lines = lines_of(deal("D-9", "2026-07-03", "10"), delivered("D-9", "2026-07-20", "d-9"))
        ledger.record_facts(lines[:1])
        ledger.record_facts(lines[1:])
        found = ledger.repository.get(deal_id_of("D-9"))
        assert isinstance(found, Deal)
        assert (found.version, found.deal_id, found.created_on) == (2, "D-9", AT)
        assert found.lifecycle == {"deal.delivered": ("crm/d-9", decode_event(
            lines[1].raw).content_hash)}
        claim = ledger.repository.get(fact_id("crm/d-9"))
        assert isinstance(claim, KeyClaim)
        assert claim.key == "crm/d-9"
    finally:
        ledger.close()


@pytest.mark.parametrize("text", [ODD, "".join(map(chr, range(0x80))), "plain", ""])
def test_text_is_encoded_as_the_event_stores_transcoder_encodes_it(text: str) -> None:
    recording = Recording(AT)
    recording.create(Rejection, rejection_id("r"), {"raw": text, "reason": "r", "origin": ""})
    transcoder = Application[Any]({"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper.transcoder
    assert recording.stored_events()[0].state == transcoder.encode({
        "timestamp": AT, "originator_topic": "domain.aggregates:Rejection",
        "raw": text, "reason": "r", "origin": ""})
