"""Publishes the score-update outbox to Kafka, tracking its position so a restart resumes
without gaps; a message published twice carries the same `seq`, so subscribers can drop it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import Engine, select, update

from projections.tables import projection_positions, score_updates

PUBLISHER = "score-updates-published"
PAGE = 1000

Send = Callable[[bytes, bytes], Coroutine[Any, Any, Any]]


class ScorePublisher:
    """Reads outbox rows after its tracked position and sends them in order."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def position(self) -> int:
        """The id of the last outbox row known to be published."""
        with self.engine.begin() as conn:
            found = conn.execute(select(projection_positions.c.position).where(
                projection_positions.c.name == PUBLISHER)).scalar()
            if found is None:
                conn.execute(projection_positions.insert().values(name=PUBLISHER, position=0))
                return 0
            return int(found)

    def pending(self, after: int) -> list[Any]:
        """Up to a page of unpublished rows, oldest first."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(score_updates).where(score_updates.c.id > after)
                                     .order_by(score_updates.c.id).limit(PAGE)))

    def advance(self, position: int) -> None:
        """Record that everything up to `position` was acknowledged by the broker."""
        with self.engine.begin() as conn:
            conn.execute(update(projection_positions).where(
                projection_positions.c.name == PUBLISHER).values(position=position))

    async def publish_pending(self, send: Send) -> int:
        """Send every unpublished row, waiting for the broker's acknowledgements page by page."""
        published = 0
        after = await asyncio.to_thread(self.position)
        while rows := await asyncio.to_thread(self.pending, after):
            futures = [await send(f"{row.rep_id}|{row.period}".encode(), row.payload.encode())
                       for row in rows]
            await asyncio.gather(*futures)
            after = rows[-1].id
            await asyncio.to_thread(self.advance, after)
            published += len(rows)
        return published
