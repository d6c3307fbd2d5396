"""The read-model tables. Money is text (exact decimals), JSON is text, times are ISO 8601 UTC."""

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Column,
    ColumnElement,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.dialects import sqlite

metadata = MetaData()


@contextmanager
def lone_statements(engine: Engine) -> Iterator[Connection]:
    """A connection for a statement or two that need no transaction around them (a read of
    positions or of the outbox's next rows, a one-row upsert). On PostgreSQL each commits on its
    own (autocommit), which saves the round trips of BEGIN and of COMMIT or ROLLBACK: two of
    three for a lone statement, where a round trip took 2-7 ms in the Kafka worker on a busy
    2-CPU machine. Elsewhere it is a transaction as usual, committed at the end."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn
    else:
        with engine.begin() as conn:
            yield conn


def among(conn: Connection, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN values`, the values sent as one parameter however many there are: an array
    on PostgreSQL (`= ANY`), a JSON array SQLite unpacks with `json_each`. One query text for
    any number of values, so it is converted and planned once, and bound once, not per value
    (a period's look-up of 35,000 deal ids: 0.04 s against 0.1 s as IN lists of 500)."""
    listed = sorted(values)
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, listed, type_=ARRAY(column.type)))
    unpacked = func.json_each(bindparam(None, orjson.dumps(listed).decode(), type_=Text))
    return column.in_(select(unpacked.table_valued("value").c.value))


def pairs_among(conn: Connection, pairs: Iterable[tuple[str, str | None]], grouped: Any,
                listed: Any) -> Iterator[ColumnElement[bool]]:
    """Conditions that together match the (grouped, listed) value pairs: one value of `grouped`
    and the values of `listed` paired with it each. PostgreSQL plans a list of values far
    faster than one of row pairs (about 45 ms for 500 pairs, at every page)."""
    by_group: dict[str, list[str]] = defaultdict(list)
    for group, value in sorted({(g, v) for g, v in pairs if v is not None}):
        by_group[group].append(value)
    for group, values in by_group.items():
        yield (grouped == group) & among(conn, listed, values)


def append_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (each with the same keys) into `table` in the connection's transaction. On
    PostgreSQL they are copied in (`COPY ... FROM STDIN`): a page's rows as pipelined one-row
    INSERTs cost about 0.05 ms a row there, copied 0.03 ms, most of it the client's. On SQLite
    they go to the driver's `executemany` as tuples: the read models' columns are integers and
    text, which need no conversion, and SQLAlchemy's parameter handling for each row cost about
    as much as SQLite's insert of it."""
    if not rows:
        return
    columns = list(rows[0])
    listed = ", ".join(f'"{column}"' for column in columns)
    if conn.dialect.name != "postgresql":
        conn.connection.driver_connection.executemany(
            f'INSERT INTO "{table.name}" ({listed}) VALUES ({", ".join("?" * len(columns))})',
            [tuple(row[column] for column in columns) for row in rows])
        return
    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(
            f'COPY "{table.name}" ({listed}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])


def merge_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *,
               replacing: bool) -> None:
    """Insert `rows` (each with the same keys) into `table`; a row whose primary key is already
    there replaces it when `replacing`, else is skipped. On PostgreSQL the rows go as one
    statement over arrays, one per column (one query text whatever the count, so prepared once),
    instead of a pipelined statement per row."""
    if not rows:
        return
    columns = list(rows[0])
    key = [column.name for column in table.primary_key.columns]
    if conn.dialect.name != "postgresql":
        statement = sqlite.insert(table)
        conn.execute(statement.on_conflict_do_update(index_elements=key, set_={
            column: statement.excluded[column] for column in columns if column not in key})
            if replacing else statement.on_conflict_do_nothing(), rows)
        return
    arrays = ", ".join(f"CAST(:{column} AS {table.c[column].type.compile(conn.dialect)}[])"
                       for column in columns)
    listed = ", ".join(f'"{column}"' for column in columns)
    settled = ", ".join(f'"{column}" = EXCLUDED."{column}"' for column in columns
                        if column not in key)
    on_conflict = (f"DO UPDATE SET {settled}" if replacing and settled else "DO NOTHING")
    conn.execute(text(f'INSERT INTO "{table.name}" ({listed}) SELECT * FROM unnest({arrays}) '
                      f'ON CONFLICT ({", ".join(key)}) {on_conflict}'),
                 {column: [row[column] for row in rows] for column in columns})


projection_positions = Table(
    "projection_positions", metadata,
    Column("name", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
)

# The facts that may undo or claw back a deal's credit; as a condition both the partial index of
# them and the queries it serves spell out (a planner matches the index by its condition's text).
DISPUTING = ("deal.cancelled", "complaint.logged")
DISPUTES = text(f"type IN ({', '.join(repr(kind) for kind in DISPUTING)})")

# One row per recorded fact or decision, indexed by period for the engine and for replays.
facts = Table(
    "facts", metadata,
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("source", String(200), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("type", String(40), nullable=False),
    Column("time", String(40), nullable=False),
    Column("day", String(10), nullable=False),
    Column("quarter", String(7), nullable=False),
    Column("month", String(7), nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("deal_id", String(200)),
    Column("scope", String(210)),
    Column("target_period", String(7)),
    Column("content_hash", String(64), nullable=False),
    Column("data", Text, nullable=False),
    Index("facts_by_quarter", "quarter", "type"),
    Index("facts_by_month", "month", "type"),
    Index("facts_by_deal", "deal_id", "type"),
    Index("facts_by_target_period", "target_period"),
    Index("facts_by_event_id", "event_id"),  # a statement's lines name their sources by it
    # The roster is read whole by every view; without this it is a scan of every fact.
    Index("facts_roster", "position", sqlite_where=text("type = 'roster.assigned'"),
          postgresql_where=text("type = 'roster.assigned'")),
    # The deals disputed, for a pass over a period (projections/loader.py: `load_disputed`).
    Index("facts_disputes", "deal_id", "position", sqlite_where=DISPUTES,
          postgresql_where=DISPUTES),
)

# Every rep a fact names (credits, accountable rep, coachees, roster, target scope).
fact_reps = Table(
    "fact_reps", metadata,
    Column("position", Integer, nullable=False),
    Column("rep_id", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Index("fact_reps_by_rep", "rep_id", "position"),
    Index("fact_reps_by_position", "position"),
)

rejects = Table(
    "rejects", metadata,
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("recorded_at", String(40), nullable=False),
    Column("origin", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
)

live_statements = Table(
    "live_statements", metadata,
    Column("rep_id", String(200), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("team_id", String(200)),
    Column("credited_revenue", String(40), nullable=False),
    Column("revenue_target", String(40)),
    Column("attainment", String(40)),
    Column("score", String(40)),
    Column("total", String(40), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("statement", Text, nullable=False),
    Index("live_statements_by_period", "period", "team_id"),
)

# Each live statement's running totals (domain.engine.running), stepped per fact between
# recomputations; a row is absent while its statement awaits a recomputation that steps cannot do.
running_totals = Table(
    "running_totals", metadata,
    Column("rep_id", String(200), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("team_id", String(200)),
    Column("totals", Text, nullable=False),
    Index("running_totals_by_team", "period", "team_id"),
)

# (rep, period) pairs whose live statement must be recomputed; written with the tracking position.
stale_statements = Table(
    "stale_statements", metadata,
    Column("rep_id", String(200), primary_key=True),
    Column("period", String(7), primary_key=True),
)

collaboration_edges = Table(
    "collaboration_edges", metadata,
    Column("position", Integer, nullable=False),
    Column("deal_id", String(200), nullable=False),
    Column("quarter", String(7), nullable=False),
    Column("month", String(7), nullable=False),
    Column("owner_id", String(200), nullable=False),
    Column("helper_id", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("credited", String(40), nullable=False),
    Index("collaboration_by_quarter", "quarter"),
    Index("collaboration_by_month", "month"),
    Index("collaboration_by_deal", "deal_id"),
)

# The events behind each stale statement, reported as the causes of its score update.
stale_causes = Table(
    "stale_causes", metadata,
    Column("rep_id", String(200), nullable=False),
    Column("period", String(7), nullable=False),
    Column("event_id", String(420), nullable=False),
    Index("stale_causes_by_key", "rep_id", "period"),
)

# The score-update outbox: one row per change of a live statement's figures, published to Kafka
# by a tracked publisher. Kept across rebuilds so each key's `seq` only ever grows.
score_updates = Table(
    "score_updates", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rep_id", String(200), nullable=False),
    Column("period", String(7), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("payload", Text, nullable=False),
)

score_heads = Table(
    "score_heads", metadata,
    Column("rep_id", String(200), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("digest", String(64), nullable=False),
)

# The hash chain over the stored events: one link per position, sealing the event and the link before.
event_chain = Table(
    "event_chain", metadata,
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("originator_id", String(200), nullable=False),
    Column("originator_version", Integer, nullable=False),
    Column("topic", Text, nullable=False),
    Column("state_sha256", String(64), nullable=False),
    Column("link", String(64), nullable=False),
)

closed_periods = Table(
    "closed_periods", metadata,
    Column("period", String(7), primary_key=True),
    Column("closed_at", String(40), nullable=False),
)

# Every issued version of every statement, with what caused each restatement.
issued_statements = Table(
    "issued_statements", metadata,
    Column("rep_id", String(200), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("history_id", String(36), nullable=False),
    Column("total", String(40), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("plan_ref", String(220), nullable=False),
    Column("known_at", String(40), nullable=False),
    Column("issued_at", String(40), nullable=False),
    Column("causes", Text, nullable=False),
    Column("delta", String(40)),
    Column("adjustment_period", String(7)),
    Column("statement", Text, nullable=False),
    Index("issued_statements_by_history", "history_id"),
)

disputes = Table(
    "disputes", metadata,
    Column("dispute_id", String(40), primary_key=True),
    Column("aggregate_id", String(36), nullable=False, unique=True),
    Column("rep_id", String(200), nullable=False),
    Column("period", String(7), nullable=False),
    Column("line", Integer),
    Column("reason", Text, nullable=False),
    Column("statement_version", Integer),
    Column("opened_at", String(40), nullable=False),
    Column("outcome", String(10)),
    Column("amount", String(40)),
    Column("note", Text),
    Column("adjustment_period", String(7)),
    Column("resolved_at", String(40)),
)
