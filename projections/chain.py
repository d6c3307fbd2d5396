"""Tamper evidence for the event store: a projection that chains a link per stored event, and a
check that compares the stored links with the events as they are now and names each break.

Rebuilding the chain recomputes it from the log as it is, so a rebuild after tampering blesses the
tampered log: the check is what compares, and it never rewrites a link."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from eventsourcing.application import Application
from sqlalchemy import Connection, Engine, Row, Table, inspect, select

from domain.chain import GENESIS, link, link_from_digest, state_digest
from projections.runner import Logged
from projections.tables import append_rows, event_chain, projection_positions

CHAIN = "event-chain"
PAGE_SIZE = 5000

Breakage = Literal["altered", "deleted", "unchained"]


class EventChainProjection:
    """Appends one link to `event_chain` per stored event, continuing from the last link."""

    name = CHAIN
    tables: tuple[Table, ...] = (event_chain,)

    def process(self, conn: Connection, events: Sequence[Logged]) -> None:
        """Insert the links of a page of stored events."""
        previous = conn.execute(select(event_chain.c.link).order_by(event_chain.c.position.desc())
                                .limit(1)).scalar() or GENESIS
        rows = []
        for logged in events:
            stored = logged.stored
            if stored is None:
                raise ValueError(f"event #{logged.position} came without its stored notification")
            digest = state_digest(stored.state)
            previous = link_from_digest(previous, logged.position, str(stored.originator_id),
                                        stored.originator_version, stored.topic, digest)
            rows.append({"position": logged.position, "originator_id": str(stored.originator_id),
                         "originator_version": stored.originator_version, "topic": stored.topic,
                         "state_sha256": digest, "link": previous})
        append_rows(conn, event_chain, rows)

    def settle(self, engine: Engine) -> None:
        """Nothing deferred: links are final when written."""


@dataclass(frozen=True)
class ChainBreak:
    """A stored event the chain covers that no longer matches it. `altered`: its link no longer
    verifies (`changed` says which recorded fields differ; empty when only the link row itself
    was edited); `deleted`: the chain has the position, the store does not; `unchained`: the store
    has an event inside the chain's range that the chain never linked."""

    position: int
    originator_id: str
    originator_version: int
    breakage: Breakage
    changed: tuple[str, ...] = ()

    def describe(self) -> str:
        """One printable line naming the event and what is wrong with it."""
        named = (f"event #{self.position} (originator {self.originator_id}, "
                 f"version {self.originator_version})")
        if self.breakage == "altered":
            return f"{named} was altered ({', '.join(self.changed) or 'link'})"
        if self.breakage == "deleted":
            return f"{named} was deleted"
        return f"{named} is in the store but not in the chain"


def check_chain(ledger: Application[Any], engine: Engine, page_size: int = PAGE_SIZE
                ) -> list[ChainBreak]:
    """Every break between the stored chain and the stored events it covers, in position order;
    events recorded past the chain's end are not checked (catch the projection up first)."""
    end = chain_end(engine)
    breaks: list[ChainBreak] = []
    previous = GENESIS
    for row, stored in _merged(_links(engine, end, page_size),
                               _stored_events(ledger, end, page_size)):
        found, previous = _judge(previous, row, stored)
        if found is not None:
            breaks.append(found)
    return breaks


def _judge(previous: str, row: Row[Any] | None, stored: Any) -> tuple[ChainBreak | None, str]:
    """The break at one position, if any, and the link the next position chains from."""
    if stored is None:
        assert row is not None
        return ChainBreak(row.position, row.originator_id, row.originator_version, "deleted"), row.link
    now = link(previous, stored.id, str(stored.originator_id), stored.originator_version,
               stored.topic, stored.state)
    if row is None:  # the link is missing, not the event: chain on as if it were there
        return ChainBreak(stored.id, str(stored.originator_id), stored.originator_version,
                          "unchained"), now
    if now != row.link:
        return ChainBreak(row.position, row.originator_id, row.originator_version, "altered",
                          _changed(row, stored)), row.link
    return None, row.link


def chain_end(engine: Engine) -> int:
    """The last position the chain projection has processed (0 when it never ran)."""
    if not inspect(engine).has_table(event_chain.name):
        return 0
    with engine.connect() as conn:
        end = conn.execute(select(projection_positions.c.position)
                           .where(projection_positions.c.name == CHAIN)).scalar()
    return int(end or 0)


def _links(engine: Engine, end: int, page_size: int) -> Iterator[Row[Any]]:
    after = 0
    while True:
        with engine.connect() as conn:
            page = conn.execute(select(event_chain)
                                .where(event_chain.c.position > after, event_chain.c.position <= end)
                                .order_by(event_chain.c.position).limit(page_size)).all()
        yield from page
        if len(page) < page_size:
            return
        after = page[-1].position


def _stored_events(ledger: Application[Any], end: int, page_size: int) -> Iterator[Any]:
    start = 1
    while start <= end:
        page = ledger.recorder.select_notifications(start, page_size, stop=end)
        yield from page
        if len(page) < page_size:
            return
        start = page[-1].id + 1


def _merged(links: Iterator[Row[Any]], stored_events: Iterator[Any]
            ) -> Iterator[tuple[Any, Any]]:
    """(link row, stored event) pairs in position order; None where one side lacks the position."""
    row, stored = next(links, None), next(stored_events, None)
    while row is not None or stored is not None:
        if stored is None or (row is not None and row.position < stored.id):
            yield row, None
            row = next(links, None)
        elif row is None or stored.id < row.position:
            yield None, stored
            stored = next(stored_events, None)
        else:
            yield row, stored
            row, stored = next(links, None), next(stored_events, None)


def _changed(row: Row[Any], stored: Any) -> tuple[str, ...]:
    recorded = {"originator id": row.originator_id, "version": row.originator_version,
                "topic": row.topic, "state": row.state_sha256}
    now = {"originator id": str(stored.originator_id), "version": stored.originator_version,
           "topic": stored.topic, "state": state_digest(stored.state)}
    return tuple(name for name in recorded if recorded[name] != now[name])
