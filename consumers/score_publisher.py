"""Publishes the score-update outbox to Kafka, tracking its position so a restart resumes
without gaps; a message published twice carries the same `seq`, so subscribers can drop it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import Engine, func, select

from projections.tables import lone_statements, merge_rows, projection_positions, score_updates

PUBLISHER = "score-updates-published"
PAGE = 1000

Send = Callable[[bytes, bytes], Coroutine[Any, Any, Any]]


class ScorePublisher:
    """Reads outbox rows after its tracked position and sends them in order."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def pending(self) -> list[Any]:
        """Up to a page of rows after the tracked position, oldest first."""
        published = select(projection_positions.c.position).where(
            projection_positions.c.name == PUBLISHER).scalar_subquery()
        with lone_statements(self.engine) as conn:
            return list(conn.execute(select(score_updates).where(
                score_updates.c.id > func.coalesce(published, 0))
                .order_by(score_updates.c.id).limit(PAGE)))

    def advance(self, position: int) -> None:
        """Record that everything up to `position` was acknowledged by the broker."""
        with lone_statements(self.engine) as conn:
            merge_rows(conn, projection_positions, [{"name": PUBLISHER, "position": position}],
                       replacing=True)

    async def publish_pending(self, send: Send) -> int:
        """Send every unpublished row, waiting for the broker's acknowledgements page by page,
        until a page comes back short: rows written since are the next call's."""
        published = 0
        while rows := await asyncio.to_thread(self.pending):
            futures = [await send(f"{row.rep_id}|{row.period}".encode(), row.payload.encode())
                       for row in rows]
            await asyncio.gather(*futures)
            await asyncio.to_thread(self.advance, rows[-1].id)
            published += len(rows)
            if len(rows) < PAGE:
                break
        return published
