"""Builds the ledger, the read-model database and the projection runner from one database URL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from domain.engine import Statement, calculate
from domain.errors import DomainError, PlanNotFound
from domain.intake import Incoming, IngestReport
from domain.ledger import Ledger
from domain.periods import Period
from domain.plan import Plan
from perfledger.alongside import alongside
from perfledger.event_store import (
    events_table,
    insert_events_in_binary,
    leave_insert_vacuums_to_the_runner,
)
from perfledger.period_pass import each_statement
from perfledger.settings import Settings
from projections.audit import AuditProjection
from projections.chain import EventChainProjection
from projections.collaboration import CollaborationProjection
from projections.facts import FactsProjection
from projections.loader import load_view
from projections.pool import processes_for
from projections.runner import SCHEMA_LOCK, ProjectionRunner, collector_paused
from projections.statements import LiveStatements
from projections.tables import live_statements, stale_statements

T = TypeVar("T")
PAGES_POLL_SECONDS = 0.005  # how often an ingest's pages process looks for a new batch when idle


def _apply_pages(settings: Settings, finished: Event) -> None:
    """The pages process of an ingest (perfledger/alongside.py): apply, in bulk, whatever the
    ledger commits until the recording has finished and nothing is left. It reads each batch
    back from the store (8 s for a 100k-event quarter, against 5.3 s handed over in memory),
    in pages of a batch."""
    system = System(settings)
    try:
        with system.runner.in_bulk(page_size=settings.ingest_batch_size):
            while True:
                last = finished.is_set()  # before looking: all it waited for has committed
                if system.runner.catch_up(settle=False) == 0:
                    if last:
                        return
                    finished.wait(PAGES_POLL_SECONDS)
    finally:
        system.close()


def batched(items: Iterable[T], size: int) -> Iterable[Sequence[T]]:
    """Consecutive lists of at most `size` items."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class SettingsError(DomainError):
    """A setting that cannot work, e.g. a database URL of an unsupported kind."""


def utc_now() -> datetime:
    """The transaction-time clock."""
    return datetime.now(UTC)


def event_store_env(url: str) -> dict[str, str]:
    """The eventsourcing environment for the event store behind a SQLAlchemy URL."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise SettingsError("database_url: not a database URL, e.g. sqlite:///perfledger.db"
                            ) from None
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise SettingsError("database_url: use a SQLite file, e.g. sqlite:///perfledger.db")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": parsed.database,
                "SQLITE_LOCK_TIMEOUT": "60"}
    if parsed.get_backend_name() == "postgresql":
        return {"PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": parsed.database or "perfledger",
                "POSTGRES_HOST": parsed.host or "127.0.0.1",
                "POSTGRES_PORT": str(parsed.port or 5432),
                "POSTGRES_USER": parsed.username or "perfledger",
                "POSTGRES_PASSWORD": parsed.password or "",
                "POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "4"}
    raise SettingsError(f"database_url: unsupported database {parsed.get_backend_name()!r} "
                        "(use sqlite:///FILE or postgresql+psycopg://…)")


def read_model_engine(url: str) -> Engine:
    """The SQLAlchemy engine of the read models; SQLite gets WAL, a busy timeout and
    write-locking transactions so concurrent runners serialise instead of failing."""
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    return engine


@contextmanager
def schema_turn(engine: Engine) -> Iterator[Connection | None]:
    """Processes starting at once on PostgreSQL take turns creating the event store's tables and
    functions: the recorder runs CREATE OR REPLACE FUNCTION at every start, and two of those at
    once fail with "tuple concurrently updated". SQLite serialises writers by itself. On
    PostgreSQL the turn's connection is given, to change the tables within it."""
    if engine.dialect.name != "postgresql":
        yield None
        return
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        yield conn


class System:
    """The wired ledger: the writer, the read-model database and the projections."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        env = event_store_env(settings.database_url)
        self.engine = read_model_engine(settings.database_url)
        with schema_turn(self.engine) as conn:
            self.ledger = Ledger(env, clock=utc_now, default_currency=settings.default_currency)
            events = events_table(self.ledger.recorder)
            if conn is not None and events is not None:
                leave_insert_vacuums_to_the_runner(conn, events)
        insert_events_in_binary(self.ledger.recorder)
        self.statements = LiveStatements(
            self._plan_for, utc_now, reading=settings.database_url,
            processes=processes_for(settings.statement_processes))
        self.runner = ProjectionRunner(
            self.engine, self.ledger,
            [FactsProjection(), self.statements, CollaborationProjection(), AuditProjection(),
             EventChainProjection()],
            page_size=settings.projection_page_size, events_table=events)

    def _plan_for(self, period: Period, known_at: datetime | None = None) -> Plan | None:
        return self.ledger.plan_book().plan_for(period, known_at)

    def plan_for(self, period: Period, known_at: datetime | None = None) -> Plan:
        """The plan a period's statements use: adopted for it, else the latest published."""
        plan = self._plan_for(period, known_at)
        if plan is None:
            raise PlanNotFound("plan: none is published yet (run `perfledger plan publish FILE`)")
        return plan

    def ingest(self, items: Iterable[Incoming],
               on_batch: Callable[[int], None] | None = None) -> IngestReport:
        """Record inbound lines in batches, bringing the read models up to date in bulk:
        statements are recomputed, and their score updates written, once at the end; each batch
        is applied as one page. When the first batch is full (more may follow), and the settings
        and the machine allow, a second process applies each batch once it has committed while
        this one records the next (`_apply_pages`): a 100k-event quarter took about 10 s on
        SQLite and 11.6 s on PostgreSQL that way, against 15 s and 17 s in turn."""
        report = IngestReport()
        size = self.settings.ingest_batch_size
        with self.runner.in_bulk(page_size=size):
            with ExitStack() as paging:
                beside = False
                for batch in batched(items, size):
                    if not beside and len(batch) == size and self._pages_alongside():
                        paging.enter_context(self._not_handing_over())
                        paging.enter_context(alongside(partial(_apply_pages, self.settings),
                                                       "perfledger-pages"))
                        beside = True
                    report.add(self.ledger.record_facts(batch))
                    if not beside:
                        self.runner.catch_up(settle=False)
                    if on_batch is not None:
                        on_batch(len(batch))
            self.runner.catch_up()  # what the pages process left, then the recomputation
        return report

    def _pages_alongside(self) -> bool:
        return self.settings.ingest_pages_alongside and (os.cpu_count() or 1) > 1

    @contextmanager
    def _not_handing_over(self) -> Iterator[None]:
        """The ledger keeps no recorded events for this process's runner: another applies them."""
        self.ledger.hands_over = False
        try:
            yield
        finally:
            self.ledger.hands_over = True

    def statement(self, period: Period, rep_id: str, plan: Plan | None = None,
                  known_at: datetime | None = None) -> Statement:
        """The rep's statement from everything recorded (up to `known_at` when given), under
        the period's plan or a what-if plan."""
        self.runner.catch_up()
        chosen = plan or self.plan_for(period, known_at)
        with self.engine.connect() as conn, collector_paused():  # the view is gone before it resumes
            return calculate(load_view(conn, period, [rep_id], known_at), chosen, rep_id)

    def live_statement(self, period: Period, rep_id: str) -> dict[str, Any]:
        """The rep's current statement as JSON: served from the live read model when it holds
        the (rep, period), else computed."""
        self.runner.catch_up()
        with self.engine.connect() as conn:
            stored = conn.execute(select(live_statements.c.statement).where(
                live_statements.c.rep_id == rep_id, live_statements.c.period == period.name,
                live_statements.c.rep_id.not_in(select(stale_statements.c.rep_id).where(
                    stale_statements.c.period == period.name)))).scalar()
        if stored is not None:
            return dict(orjson.loads(stored))
        return self.statement(period, rep_id).to_json()

    def period_statements(self, period: Period, plan: Plan | None = None,
                          known_at: datetime | None = None) -> list[Statement]:
        """Every rep's statement of the period (reps named by its facts, targets or
        adjustments as known at `known_at`)."""
        return sorted(self.each_period_statement(period, plan, known_at, _whole),
                      key=lambda statement: statement.rep_id)

    def each_period_statement(self, period: Period, plan: Plan | None, known_at: datetime | None,
                              shape: Callable[[Statement], T], *, provenance: bool = True
                              ) -> Iterator[T]:
        """The statements of `period_statements`, each in the `shape` the caller needs (a
        module-level function), a few teams at a time, in no set order: memory holds one group
        of teams, not the period, and the groups are spread over `statement_processes`
        processes. Without `provenance`, for a preview of figures and lines, they carry no
        sources and an empty fingerprint."""
        self.runner.catch_up()
        chosen = plan or self.plan_for(period, known_at)
        yield from each_statement(self.engine, self.settings.database_url, period, chosen,
                                  known_at, self.settings.statement_processes, shape, provenance)

    def close(self) -> None:
        """Release connections."""
        self.ledger.close()
        self.engine.dispose()


def _whole(statement: Statement) -> Statement:
    return statement
