"""The event store's table on PostgreSQL: its inserts sent in binary, its vacuum left to the runner.

eventsourcing inserts a batch of stored events as one parameter: an array of its composite type
(originator id, version, topic, state), unnested by the server. psycopg dumps a composite as text
unless told otherwise, escaping every field and writing each state (bytea) as hex: about 15 µs
an event of 500 bytes, against 2 µs in binary, and twice the bytes on the wire. A 100k-event
ingest spent about 2.5 s of its 21 s there. The statement's placeholder is made binary (`%b`);
the statement, the table lock and the notification ids are eventsourcing's as before.
"""

from __future__ import annotations

from typing import Any

from psycopg.sql import SQL, Composable, Composed

TEXT_ARRAY = "unnest(%s::"
BINARY_ARRAY = "unnest(%b::"


def insert_events_in_binary(recorder: Any) -> bool:
    """Make the recorder's insert send its array of stored events in binary; False (and the
    statement left as it is) when the recorder has no such statement, e.g. on SQLite."""
    statement = getattr(recorder, "insert_events_statement", None)
    if not isinstance(statement, Composed):
        return False
    parts = [_binary(part) for part in statement]
    if parts == list(statement):
        return False
    recorder.insert_events_statement = Composed(parts)
    return True


def _binary(part: Composable) -> Composable:
    if isinstance(part, SQL) and TEXT_ARRAY in part.as_string(None):
        return SQL(part.as_string(None).replace(TEXT_ARRAY, BINARY_ARRAY))
    return part


# The events table's vacuum, on PostgreSQL. eventsourcing serialises inserts with LOCK TABLE ...
# IN EXCLUSIVE MODE, which waits for a vacuum of the table (autovacuum's included) until
# `deadlock_timeout` (1 s) has the vacuum cancelled: a worker streaming 1,000 events/s stalled
# for 0.9 s each time autovacuum came for the growing table (every fifth of its size in new rows),
# and the table stayed unvacuumed. The projection runner vacuums it instead, each time the log has
# doubled, between its pages (`ProjectionRunner._keep_tables`); autovacuum comes for new rows
# only once they are twice the table, which the runner's doubling gets to first.
AUTOVACUUM_INSERT_SCALE = 2.0


def events_table(recorder: Any) -> str | None:
    """The events table's qualified, quoted name on PostgreSQL; None elsewhere."""
    datastore, table = getattr(recorder, "datastore", None), getattr(recorder, "events_table_name", None)
    schema = getattr(datastore, "schema", None)
    if not (isinstance(schema, str) and isinstance(table, str)):
        return None
    return f'"{schema}"."{table}"'


def leave_insert_vacuums_to_the_runner(conn: Any, table: str) -> None:
    """Have autovacuum vacuum the events table for new rows only once they are twice it (the
    table's own setting, made once; changing it takes a brief lock of the table). A role that
    does not own the table leaves it as its owner set it (and the runner's VACUUM is then
    skipped with the server's warning)."""
    options, owned = conn.exec_driver_sql(
        "SELECT reloptions, pg_has_role(relowner, 'USAGE') FROM pg_class "
        "WHERE oid = %(table)s::regclass", {"table": table}).one()
    wanted = f"autovacuum_vacuum_insert_scale_factor={AUTOVACUUM_INSERT_SCALE}"
    if owned and wanted not in (options or []):
        conn.exec_driver_sql(
            f"ALTER TABLE {table} SET (autovacuum_vacuum_insert_scale_factor = "
            f"{AUTOVACUUM_INSERT_SCALE})")
