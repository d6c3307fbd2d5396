"""Runs projections over the notification log: pages in global order, each page's view rows and
tracking positions written in one transaction, so a restart neither loses nor repeats work."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table, select, text, update

from domain.ledger import Ledger
from projections.tables import lone_statements, merge_rows, metadata, projection_positions

SCHEMA_LOCK = 7_311_000  # advisory lock id for creating the read-model tables
# On PostgreSQL the facts tables' statistics are refreshed, and the events table vacuumed, as
# pages come in, each time the log has grown this many times over since the process last did
# (and past STATISTICS_FROM).
STATISTICS_GROWTH = 2
STATISTICS_FROM = 1_000


@dataclass(frozen=True)
class Logged:
    """A domain event at its position in the notification log, with the stored notification it
    was decoded from (id, originator_id, originator_version, topic, state)."""

    position: int
    event: Any
    stored: Any = None


class Projection(Protocol):
    """A read model: its tables, how a page of events changes them, and deferred work."""

    name: str
    tables: tuple[Table, ...]

    def process(self, conn: Connection, events: Sequence[Logged]) -> None: ...

    def settle(self, engine: Engine) -> None: ...


class ProjectionRunner:
    """Catches projections up with the log, in pages, exactly once."""

    def __init__(self, engine: Engine, ledger: Ledger,
                 projections: Sequence[Projection], page_size: int = 1000,
                 events_table: str | None = None) -> None:
        self.engine = engine
        self.ledger = ledger
        self.projections = list(projections)
        self.page_size = page_size
        self.events_table = events_table  # on PostgreSQL: vacuumed as the log doubles
        self._ready = False
        self._analysed_at = 0  # the log position when this process last kept the tables

    def create_tables(self) -> None:
        """Create missing read-model tables, indexes and tracking rows (idempotent). Processes starting
        at once on PostgreSQL take turns (two concurrent CREATE TABLEs collide there); SQLite's
        write-locking transaction already serialises them."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            metadata.create_all(conn)
            for table in metadata.sorted_tables:  # indexes added since a store was created
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            merge_rows(conn, projection_positions, [
                {"name": projection.name, "position": 0} for projection in self.projections],
                replacing=False)
        self._ready = True

    def catch_up(self, *, settle: bool = True) -> int:
        """Process everything recorded so far; return how many log positions were applied.
        Deferred work (recomputing stale statements) runs at the end unless `settle` is False."""
        applied = sum(self.catching_up())
        if settle:
            for _ in self.settling():
                pass
        return applied

    def catching_up(self) -> Iterator[int]:
        """Process everything recorded so far a page at a time, yielding after each page's
        transaction commits (how many log positions it applied), so a caller can publish what
        each page wrote while more is being recorded."""
        if not self._ready:
            self.create_tables()
        with lone_statements(self.engine) as conn:
            start = min(self._positions(conn).values()) + 1
        while page := self._page(start):
            yield self._apply(page)  # each projection now past the page (or further already)
            start = page[-1].position + 1

    def _page(self, start: int) -> list[Logged]:
        """The log from `start` on, a page at most: handed over by the ledger when it recorded
        it, else read from the store and decoded."""
        if recorded := self.ledger.take_recorded(start, self.page_size):
            return [Logged(position, event, notification)
                    for position, event, notification in recorded]
        return [Logged(n.id, self.ledger.mapper.to_domain_event(n), n)
                for n in self.ledger.recorder.select_notifications(start, self.page_size)]

    def settling(self, step_size: int | None = None) -> Iterator[None]:
        """The projections' deferred work a step at a time (a projection with `settle_steps`
        yields after each transaction of it, of about `step_size` items when given), so a caller
        can publish what each step wrote."""
        for projection in self.projections:
            steps = getattr(projection, "settle_steps", None)
            if steps is None:
                projection.settle(self.engine)
                yield None
            else:
                for _ in steps(self.engine, step_size) if step_size else steps(self.engine):
                    yield None

    def positions(self) -> dict[str, int]:
        """Each projection's position in the notification log."""
        with lone_statements(self.engine) as conn:
            return self._positions(conn)

    def rebuild(self) -> int:
        """Drop every read model and build it again from position 0, in bulk: the final
        recomputation publishes only the score updates whose figures changed."""
        tables = [table for projection in self.projections for table in projection.tables]
        metadata.drop_all(self.engine, tables=tables)
        projection_positions.create(self.engine, checkfirst=True)  # a store never caught up
        with self.engine.begin() as conn:
            conn.execute(projection_positions.delete().where(
                projection_positions.c.name.in_([p.name for p in self.projections])))
        self._ready = False
        with self.in_bulk():
            return self.catch_up()

    @contextmanager
    def in_bulk(self, page_size: int | None = None) -> Iterator[None]:
        """Within it, projections that publish as they go (score updates stepped per page) hold
        back until the deferred work at the end: for a rebuild, or a whole file's ingest, which
        applies pages of `page_size` events when given (nobody waits for a page's updates)."""
        configured = self.page_size
        with ExitStack() as bulk:
            for projection in self.projections:
                if hasattr(projection, "in_bulk"):
                    bulk.enter_context(projection.in_bulk())
            self.page_size = page_size or configured
            try:
                yield
            finally:
                self.page_size = configured
        self._refresh_statistics()

    def _refresh_statistics(self) -> None:
        """Give the database's planner the facts tables' new shape: after a bulk load, and on
        PostgreSQL as the log doubles (`_keep_tables`). SQLite keeps no statistics until asked:
        without them it read a group of teams' facts of a 1M-event quarter through the quarter
        index, fact by fact, instead of by position (ANALYZE samples 1,000 rows an index
        there)."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            for table in ("facts", "fact_reps"):
                conn.exec_driver_sql(f"ANALYZE {table}")

    def _keep_tables(self, position: int) -> None:
        """On PostgreSQL, once the log has doubled since this process last did: refresh the
        facts tables' statistics, and vacuum the events table.

        Autovacuum analyses a grown table within a minute or so, and until it has, the planner
        takes a table that has grown from empty for empty: the Kafka worker restored one rep's
        running totals by walking every fact of the quarter (1-2.5 s a page 20-50 s into a
        stream, against 0.5 ms once analysed), and whether a stream kept up at 1,000 events/s
        came down to when autovacuum got there. An ANALYZE of both tables costs about 0.1 s at
        30,000 facts; doubling keeps them to a few in a table's life (8 for a 100k-event
        ingest, which ran 5 % faster with them).

        A vacuum of the events table, autovacuum's included, holds back every insert into it
        (eventsourcing locks the table in EXCLUSIVE mode for one) until `deadlock_timeout` has
        it cancelled: a 0.9 s stall each time autovacuum came for the growing table. Vacuumed
        here, between pages, it costs one short wait where this process has nothing in flight;
        autovacuum then finds no new rows to vacuum for (perfledger/event_store.py)."""
        if (self.engine.dialect.name != "postgresql"
                or position < max(STATISTICS_FROM, STATISTICS_GROWTH * self._analysed_at)):
            return
        self._analysed_at = position
        self._refresh_statistics()
        if self.events_table is not None:
            with lone_statements(self.engine) as conn:  # VACUUM runs outside a transaction
                conn.exec_driver_sql(f"VACUUM {self.events_table}")

    def _apply(self, page: list[Logged]) -> int:
        with self.engine.begin() as conn, collector_paused():
            positions = self._positions(conn, lock=True)
            advanced = []
            for projection in self.projections:
                todo = [logged for logged in page if logged.position > positions[projection.name]]
                if todo:
                    projection.process(conn, todo)
                    advanced.append(projection.name)
            if advanced:  # each is now at the page's end, the last of what it processed
                conn.execute(update(projection_positions)
                             .where(projection_positions.c.name.in_(advanced))
                             .values(position=page[-1].position))
        for projection in self.projections:  # what a projection keeps of its rows may follow
            getattr(projection, "committed", lambda: None)()
        self._keep_tables(page[-1].position)
        return len(page)

    def _positions(self, conn: Connection, *, lock: bool = False) -> dict[str, int]:
        query = select(projection_positions.c.name, projection_positions.c.position).where(
            projection_positions.c.name.in_([p.name for p in self.projections]))
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return {row.name: row.position for row in conn.execute(query)}


def spare_long_lived() -> None:
    """Move every object made so far (modules, engines, a worker's broker) out of the cyclic
    garbage collector's reach: they live as long as the process, and each full collection
    walked them all (55-70 ms every 3-4 s in the Kafka worker; 1.3 s of a 100k-event ingest,
    0.4 s frozen)."""
    gc.freeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a view is loaded and stated, or a page applied
    (reference counting still frees memory): there is nothing for it to free there, and its
    passes over the many new objects took a third of the time of loading a 1M-event quarter.
    Leave the block holding only what it returns: what is still referenced when the collector
    resumes is what its next pass walks (a group's whole view: 0.1 s)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
