"""Payloads rebuilt from stored data equal the ones validated at ingest, field for field."""

from __future__ import annotations

import orjson

from domain.envelope import decode_event
from domain.revival import STORED_PAYLOADS, revive
from perfledger.simulation import simulate


def test_every_simulated_fact_revives_to_its_validated_payload() -> None:
    seen = set()
    for event in simulate("2026-Q3", reps=12, seed=5):
        envelope = decode_event(event)
        stored = orjson.loads(orjson.dumps(envelope.data()))
        revived = revive(envelope.type, stored)
        assert revived == STORED_PAYLOADS[envelope.type].model_validate(stored)
        assert revived.model_dump(mode="json", exclude_none=True) == stored
        seen.add(envelope.type)
    assert {"deal.closed", "renewal.booked", "coaching.session_held", "target.set"} <= seen
