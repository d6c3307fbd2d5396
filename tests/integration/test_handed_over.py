"""The ledger hands the events it just recorded to the projections, so they are not read back:
what it hands over must be what the notification log reads back, and whatever another writer
recorded in between must still be read from the log. On a SQLite file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from perfledger.settings import Settings
from perfledger.wiring import System
from tests.builders import cancelled, coaching, complaint, deal, delivered, renewal, roster, target
from tests.integration.read_models import dump_read_models, incoming, sample_plan

pytestmark = pytest.mark.integration

FIRST = [roster("alice", "team-1"), roster("bob", "team-1"), target("rep:alice", "90000.00"),
         deal("D1", "2026-07-03", "1200.50", ("alice", "owner", "0.7"), ("bob", "presales", "0.3")),
         renewal("R1", "2026-07-04", "300.00"), {"type": "deal.closed", "id": "broken"},
         {"type": "deal.closed", "id": "odd", "note": 'quote " back\\slash \n ctrl\x01 é 中文 😀'}]
SECOND = [delivered("D1", "2026-07-20"), complaint("K1", "2026-07-26", deal_id="D1"),
          coaching("S1", "2026-07-27", "mgr", "alice", "bob", minutes=45),
          deal("D1", "2026-07-03", "1200.50", ("alice", "owner", "0.7"), ("bob", "presales", "0.3"))]
THIRD = [cancelled("D1", "2026-08-02"), deal("D2", "2026-08-05", "800.00", ("bob", "owner", "1"))]


@pytest.fixture
def systems(database_url: str) -> Iterator[tuple[System, System]]:
    """Two processes' systems on one fresh store holding the sample plan."""
    first, second = System(Settings(database_url=database_url)), System(Settings(database_url=database_url))
    first.ledger.publish_plan(sample_plan())
    first.runner.catch_up()
    yield first, second
    first.close()
    second.close()


def test_what_the_ledger_hands_over_is_what_the_log_reads_back(systems: tuple[System, System]) -> None:
    ledger = systems[0].ledger
    start = ledger.recorder.max_notification_id() + 1
    for batch in (FIRST, SECOND, THIRD):
        ledger.record_facts(incoming(batch))
    read = ledger.recorder.select_notifications(start, 100)
    handed = ledger.take_recorded(start, 100)

    assert len(read) > len(FIRST + SECOND + THIRD)  # deals' key claims and the reject too
    assert [position for position, _, _ in handed] == [n.id for n in read]
    for (_, event, notification), stored in zip(handed, read, strict=True):
        assert notification == stored
        decoded = ledger.mapper.to_domain_event(stored)
        assert type(event) is type(decoded)
        assert event.__dict__ == decoded.__dict__
    assert ledger.take_recorded(start, 100) == []  # taken once


def test_the_event_store_takes_a_batch_in_binary_on_postgresql(systems: tuple[System, System],
                                                               database_url: str) -> None:
    recorder = systems[0].ledger.recorder
    statement = getattr(recorder, "insert_events_statement", None)
    if database_url.startswith("postgresql"):
        assert "unnest(%b::" in repr(statement)
    else:
        assert statement is None or "%b" not in repr(statement)


def test_the_ledger_hands_over_a_page_at_a_time_from_where_the_reader_is(
        systems: tuple[System, System]) -> None:
    ledger = systems[0].ledger
    start = ledger.recorder.max_notification_id() + 1
    ledger.record_facts(incoming(FIRST))
    end = ledger.recorder.max_notification_id()

    assert ledger.take_recorded(start - 1, 5) == []  # the reader is behind: it reads the log
    assert [p for p, _, _ in ledger.take_recorded(start + 1, 2)] == [start + 1, start + 2]
    assert [p for p, _, _ in ledger.take_recorded(start + 3, 1000)] == list(
        range(start + 3, end + 1))
    ledger.record_facts(incoming(SECOND))
    assert ledger.take_recorded(end + 2, 1)[0][0] == end + 2  # the first one the reader had


def test_pages_another_writer_recorded_in_between_are_read_from_the_log(
        systems: tuple[System, System], database_url: str) -> None:
    """One process records, another records after it, the first records again and catches
    up: its read models are those a process that recorded nothing builds from the log."""
    one, other = systems
    one.ledger.record_facts(incoming(FIRST, "one"))
    other.ledger.record_facts(incoming(SECOND, "other"))
    one.ledger.record_facts(incoming(THIRD, "one-again"))
    one.runner.catch_up()
    caught_up = dump_read_models(one.engine)

    reader = System(Settings(database_url=database_url))
    try:
        reader.runner.rebuild()
        rebuilt = dump_read_models(reader.engine)
    finally:
        reader.close()
    assert sum(len(rows) for rows in caught_up.values()) > 20
    assert caught_up == rebuilt
