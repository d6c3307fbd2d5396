"""The hash chain's link: deterministic, sensitive to every input, and chained."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.chain import GENESIS, link, link_encoding, link_from_digest, state_digest

EVENT: dict[str, Any] = {
    "previous": GENESIS, "position": 1, "originator_id": "3f2a1c1e-0000-5000-8000-000000000001",
    "originator_version": 1, "topic": "domain.aggregates:Deal.Closed",
    "state": b'{"amount":"100.00"}',
}

CHANGED: dict[str, Any] = {
    "previous": "f" * 64, "position": 2, "originator_id": "3f2a1c1e-0000-5000-8000-000000000002",
    "originator_version": 2, "topic": "domain.aggregates:Deal.Cancelled",
    "state": b'{"amount":"100.01"}',
}


def test_the_same_event_after_the_same_link_gives_the_same_link() -> None:
    assert link(**EVENT) == link(**dict(EVENT))
    assert len(link(**EVENT)) == 64
    assert set(link(**EVENT)) <= set("0123456789abcdef")


@pytest.mark.parametrize("field", list(EVENT))
def test_changing_any_input_changes_the_link(field: str) -> None:
    assert link(**{**EVENT, field: CHANGED[field]}) != link(**EVENT)


def test_the_link_hashes_the_documented_encoding() -> None:
    digest = hashlib.sha256(EVENT["state"]).hexdigest()
    encoded = (b'["perfledger-event-chain/1","' + GENESIS.encode() + b'",1,'
               b'"3f2a1c1e-0000-5000-8000-000000000001",1,"domain.aggregates:Deal.Closed","'
               + digest.encode() + b'"]')
    assert link_encoding(GENESIS, 1, EVENT["originator_id"], 1, EVENT["topic"], digest) == encoded
    assert link(**EVENT) == hashlib.sha256(encoded).hexdigest()
    assert link_from_digest(GENESIS, 1, EVENT["originator_id"], 1, EVENT["topic"],
                            state_digest(EVENT["state"])) == link(**EVENT)


def test_links_chain_so_an_earlier_change_reaches_every_later_link() -> None:
    states = [b"a", b"b", b"c"]

    def chain(states: list[bytes]) -> list[str]:
        links, previous = [], GENESIS
        for position, state in enumerate(states, start=1):
            previous = link(previous, position, "agg", position, "t:T", state)
            links.append(previous)
        return links

    honest, tampered = chain(states), chain([b"A", *states[1:]])
    assert all(a != b for a, b in zip(honest, tampered, strict=True))
    assert chain(states) == honest


def test_field_boundaries_cannot_shift() -> None:
    """Moving text from the originator id into the topic gives another link."""
    assert link(GENESIS, 1, "ab", 1, "c", b"") != link(GENESIS, 1, "a", 1, "bc", b"")
    assert link(GENESIS, 1, 'a","', 1, "b", b"") != link(GENESIS, 1, "a", 1, '","b', b"")


@given(st.text(), st.integers(min_value=0), st.text(), st.integers(min_value=0), st.text(),
       st.binary(), st.binary())
def test_different_states_give_different_links(previous: str, position: int, originator: str,
                                               version: int, topic: str, state: bytes,
                                               other: bytes) -> None:
    same = link(previous, position, originator, version, topic, state)
    assert same == link(previous, position, originator, version, topic, state)
    assert (same == link(previous, position, originator, version, topic, other)) == (state == other)


@given(st.text(), st.integers(min_value=0), st.text(), st.integers(min_value=0), st.text(),
       st.text())
def test_the_encoding_is_the_standard_librarys_compact_ascii_json(
        previous: str, position: int, originator: str, version: int, topic: str,
        digest: str) -> None:
    """Whichever way a link is encoded (orjson for plain ASCII, else the standard library),
    the bytes are those of `json.dumps(ensure_ascii=True)`, compact."""
    reference = json.dumps(["perfledger-event-chain/1", previous, position, originator, version,
                            topic, digest], ensure_ascii=True, separators=(",", ":")).encode()
    assert link_encoding(previous, position, originator, version, topic, digest) == reference
