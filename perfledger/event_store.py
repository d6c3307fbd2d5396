"""The event store's inserts on PostgreSQL, sent in binary.

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
