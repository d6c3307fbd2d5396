"""Tamper evidence: the event chain names every stored event edited or deleted behind the ledger's
back, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import orjson
import pytest
from sqlalchemy import Engine, delete, inspect, text

from domain.intake import Incoming
from perfledger.settings import Settings
from perfledger.wiring import System
from projections.chain import ChainBreak, chain_end, check_chain
from projections.tables import event_chain
from tests.builders import deal, target

pytestmark = pytest.mark.integration

FACTS = [
    target("rep:alice", "4000.00", "2026-07-01"),
    deal("D1", "2026-07-10", "1000.00"),
    deal("D2", "2026-08-12", "2500.00", ("alice", "owner", "0.6"), ("bob", "presales", "0.4")),
    deal("D3", "2026-09-03", "700.00"),
]


@pytest.fixture
def system(database_url: str) -> Iterator[System]:
    """A ledger on a fresh store with a few facts recorded and every read model caught up."""
    system = System(Settings(database_url=database_url))
    report = system.ingest([Incoming(orjson.dumps(fact)) for fact in FACTS])
    assert (len(report.accepted), report.rejected) == (len(FACTS), [])
    yield system
    system.close()


def stored_events(engine: Engine) -> tuple[str, str]:
    """The event store's table and its notification id column, as eventsourcing created them."""
    if engine.dialect.name == "sqlite":
        table, position = "stored_events", "rowid"
    else:
        table, position = "perfledger_events", "notification_id"
    assert inspect(engine).has_table(table)
    return table, position


def stored_row(engine: Engine, position: int) -> Any:
    """The stored event at a notification position, read straight from its table."""
    table, column = stored_events(engine)
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT originator_id, originator_version, topic, state "
                                 f"FROM {table} WHERE {column} = :position"),
                            {"position": position}).one()


def originator(row: Any) -> str:
    """A stored originator id as the chain names it (SQLite keeps UUIDs as bare hex)."""
    return str(UUID(str(row.originator_id)))


def position_of_deal(engine: Engine, deal_id: str) -> int:
    """The notification position of a deal's closing event."""
    table, column = stored_events(engine)
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {column} AS position, topic, state FROM {table}")).all()
    return next(row.position for row in rows if row.topic.endswith(":Deal.Closed")
                and f'"deal_id":"{deal_id}"'.encode() in bytes(row.state))


def tamper(engine: Engine, statement: str, position: int, **values: Any) -> None:
    """Run plain SQL against the event store, as someone with database access could."""
    table, column = stored_events(engine)
    with engine.begin() as conn:
        conn.execute(text(statement.format(table=table, column=column)),
                     {"position": position, **values})


def test_an_untouched_store_checks_clean_up_to_the_chains_end(system: System) -> None:
    """Events recorded but not yet chained are past the chain's end, so not reported."""
    end = chain_end(system.engine)
    assert end == system.ledger.recorder.max_notification_id()
    assert check_chain(system.ledger, system.engine) == []

    system.ledger.record_facts([Incoming(orjson.dumps(deal("D4", "2026-09-20", "90.00")))])
    assert system.ledger.recorder.max_notification_id() > end
    assert chain_end(system.engine) == end
    assert check_chain(system.ledger, system.engine) == []

    system.runner.catch_up()
    assert chain_end(system.engine) > end
    assert check_chain(system.ledger, system.engine, page_size=2) == []


@pytest.mark.parametrize("field", ["state", "topic"])
def test_an_altered_event_is_named(system: System, field: str) -> None:
    """Given a deal whose stored amount (or type) was edited in place, the check names exactly
    that event, by position and originator, as altered."""
    position = position_of_deal(system.engine, "D2")
    before = stored_row(system.engine, position)
    edited = (bytes(before.state).replace(b'"2500.00"', b'"25000.00"') if field == "state"
              else before.topic.replace("Deal.Closed", "Deal.Cancelled"))
    assert edited != getattr(before, field)

    tamper(system.engine, f"UPDATE {{table}} SET {field} = :edited WHERE {{column}} = :position",
           position, edited=edited)

    breaks = check_chain(system.ledger, system.engine, page_size=3)
    assert breaks == [ChainBreak(position, originator(before), before.originator_version,
                                 "altered", (field,))]
    assert breaks[0].describe() == (f"event #{position} (originator {originator(before)}, "
                                    f"version 1) was altered ({field})")


def test_deleted_events_are_named_even_the_last(system: System) -> None:
    """Given a deal deleted from the middle of the store and the last stored event deleted too,
    the check names both as deleted, and nothing else."""
    middle = position_of_deal(system.engine, "D1")
    last = chain_end(system.engine)
    gone = [stored_row(system.engine, position) for position in (middle, last)]

    for position in (middle, last):
        tamper(system.engine, "DELETE FROM {table} WHERE {column} = :position", position)

    breaks = check_chain(system.ledger, system.engine)
    assert breaks == [ChainBreak(position, originator(row), row.originator_version, "deleted")
                      for position, row in zip((middle, last), gone, strict=True)]
    assert breaks[1].describe().endswith("was deleted")


def test_a_link_removed_from_the_chain_leaves_its_event_unchained(system: System) -> None:
    """Given the chain itself edited (a link deleted), the event it covered is reported."""
    position = position_of_deal(system.engine, "D3")
    with system.engine.begin() as conn:
        conn.execute(delete(event_chain).where(event_chain.c.position == position))

    [unchained] = check_chain(system.ledger, system.engine)
    assert (unchained.position, unchained.breakage) == (position, "unchained")
    assert "not in the chain" in unchained.describe()
