"""The score-update outbox goes out in order, page by page, each row once, on every backend;
the broker's side is the Kafka worker's tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, select

from consumers.score_publisher import ScorePublisher
from projections.tables import lone_statements, metadata, projection_positions, score_updates

pytestmark = pytest.mark.integration


@pytest.fixture
def publisher(database_url: str) -> Iterator[ScorePublisher]:
    engine = create_engine(database_url)
    metadata.create_all(engine)
    yield ScorePublisher(engine)
    engine.dispose()


def write_updates(publisher: ScorePublisher, reps: range) -> None:
    with publisher.engine.begin() as conn:
        conn.execute(score_updates.insert(), [
            {"rep_id": f"rep-{n:03d}", "period": "2026-Q3", "seq": 1, "payload": f'{{"n":{n}}}'}
            for n in reps])


def publish(publisher: ScorePublisher) -> tuple[int, list[bytes]]:
    sent: list[bytes] = []

    async def send(key: bytes, payload: bytes) -> Any:
        sent.append(key)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    return asyncio.run(publisher.publish_pending(send)), sent


def test_every_row_goes_out_once_in_order_whatever_the_pages(
        publisher: ScorePublisher, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("consumers.score_publisher.PAGE", 10)
    write_updates(publisher, range(25))  # two full pages and a short one
    count, sent = publish(publisher)
    assert count == 25
    assert sent == [f"rep-{n:03d}|2026-Q3".encode() for n in range(25)]
    assert publish(publisher) == (0, [])
    write_updates(publisher, range(25, 30))  # written since: the next call's
    assert publish(publisher) == (5, [f"rep-{n:03d}|2026-Q3".encode() for n in range(25, 30)])


def test_a_full_last_page_is_followed_by_a_look_for_more(
        publisher: ScorePublisher, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("consumers.score_publisher.PAGE", 10)
    write_updates(publisher, range(20))
    assert publish(publisher)[0] == 20
    assert publish(publisher) == (0, [])


def test_a_lone_statement_on_postgresql_opens_no_transaction(postgres_url: str) -> None:
    """No BEGIN before it and no ROLLBACK after: the statement commits on its own."""
    engine = create_engine(postgres_url)
    try:
        metadata.create_all(engine)
        with lone_statements(engine) as conn:
            conn.execute(select(projection_positions)).all()
            status = conn.connection.driver_connection.info.transaction_status
            assert status == TransactionStatus.IDLE
        with engine.connect() as conn:  # a connection as usual is in a transaction
            conn.execute(select(projection_positions)).all()
            status = conn.connection.driver_connection.info.transaction_status
            assert status == TransactionStatus.INTRANS
    finally:
        engine.dispose()
