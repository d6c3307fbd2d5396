"""The hash chain over the stored events: each link seals one stored event and the link before it,
so editing or deleting any stored event the chain covers no longer matches its link."""

from __future__ import annotations

import hashlib
import json

import orjson

GENESIS = "0" * 64
"""The link at position 0, before the first stored event: the `previous` of the first link."""

CHAIN_VERSION = "perfledger-event-chain/1"
"""Leads every encoded link, so a future change of encoding cannot collide with this one."""

WORD = 1 << 63  # orjson writes integers below it; larger ones take the standard library's way


def state_digest(state: bytes) -> str:
    """The sha256 hex digest of a stored event's state bytes."""
    return hashlib.sha256(state).hexdigest()


def link_encoding(previous: str, position: int, originator_id: str, originator_version: int,
                  topic: str, state_sha256: str) -> bytes:
    """The canonical bytes a link hashes: a compact JSON array (ASCII, no spaces) of the chain
    version, the previous link, the position, the originator id and version, the topic and the
    state's digest. JSON quoting keeps field boundaries unambiguous."""
    fields = [CHAIN_VERSION, previous, position, originator_id, originator_version, topic,
              state_sha256]
    texts = previous + originator_id + topic + state_sha256
    if (texts.isascii() and texts.isprintable() and position < WORD
            and originator_version < WORD):  # nothing to escape: orjson writes the same bytes
        return orjson.dumps(fields)
    return json.dumps(fields, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def link(previous: str, position: int, originator_id: str, originator_version: int, topic: str,
         state: bytes) -> str:
    """The sha256 hex link of a stored event at `position`, chained to the `previous` link."""
    return link_from_digest(previous, position, originator_id, originator_version, topic,
                            state_digest(state))


def link_from_digest(previous: str, position: int, originator_id: str, originator_version: int,
                     topic: str, state_sha256: str) -> str:
    """The same link as `link`, given the digest of the state instead of the state."""
    encoded = link_encoding(previous, position, originator_id, originator_version, topic,
                            state_sha256)
    return hashlib.sha256(encoded).hexdigest()
