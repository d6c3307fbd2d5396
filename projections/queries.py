"""Simple reads of the read models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from projections.tables import rejects


def stored_rejects(conn: Connection, known_at: datetime | None = None) -> list[dict[str, Any]]:
    """Every rejected line (recorded up to `known_at` when given), oldest first, with where it
    came from and why."""
    query = select(rejects).order_by(rejects.c.position)
    if known_at is not None:
        query = query.where(rejects.c.recorded_at <= known_at.isoformat(timespec="microseconds"))
    rows = conn.execute(query)
    return [{"line": row.origin, "reason": row.reason, "raw": row.raw,
             "recorded_at": row.recorded_at} for row in rows]
