"""Simple reads of the read models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from projections.tables import rejects


def stored_rejects(conn: Connection) -> list[dict[str, Any]]:
    """Every rejected line, oldest first, with where it came from and why."""
    rows = conn.execute(select(rejects).order_by(rejects.c.position))
    return [{"line": row.origin, "reason": row.reason, "raw": row.raw,
             "recorded_at": row.recorded_at} for row in rows]
