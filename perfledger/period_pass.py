"""A whole period's statements (replay, close, restate), a few whole teams at a time, in this
process or spread over several (projections/pool.py).

Every group reads the ledger only up to one position, taken before the first group, so groups
stated by different processes (or while facts keep arriving) see the same ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection, Engine, func, select

from domain.engine import LedgerView, Statement, calculate_many
from domain.periods import Period
from domain.plan import Plan
from projections.loader import (
    Delivered,
    group_view,
    load_decisions,
    load_delivered,
    load_disputed,
    period_groups,
)
from projections.pool import across_processes, processes_for
from projections.runner import collector_paused
from projections.tables import facts

T = TypeVar("T")


@dataclass(frozen=True)
class PeriodPass:
    """What every group of one pass shares: the period, the plan, the roster and targets, the
    deals delivered in the period, the deals disputed (cancelled or complained of), and the last
    ledger position read."""

    period: Period
    plan: Plan
    decisions: LedgerView
    delivered: Delivered
    disputed: frozenset[str]
    known_at: datetime | None
    through: int
    provenance: bool = True

    def state(self, conn: Connection, group: list[str]) -> list[Statement]:
        """The statements of one group of whole teams."""
        view, reps = group_view(conn, self.period, group, self.decisions, self.known_at,
                                self.through, self.delivered, self.disputed)
        return calculate_many(view, self.plan, reps, provenance=self.provenance)


def period_pass(conn: Connection, period: Period, plan: Plan, known_at: datetime | None,
                provenance: bool = True) -> tuple[PeriodPass, list[list[str]]]:
    """The pass over the period as the ledger stands now, and its groups of reps."""
    through = conn.execute(select(func.coalesce(func.max(facts.c.position), 0))).scalar_one()
    decisions = load_decisions(conn, period, known_at, through)
    shared = PeriodPass(period, plan, decisions, load_delivered(conn, period, known_at, through),
                        load_disputed(conn, known_at, through), known_at, through, provenance)
    return shared, period_groups(conn, period, decisions, known_at, through=through)


def each_statement(engine: Engine, reading: str, period: Period, plan: Plan,
                   known_at: datetime | None, processes: int,
                   shape: Callable[[Statement], T], provenance: bool = True) -> Iterator[T]:
    """Every rep's statement of the period in the `shape` the caller needs, group by group, in
    `processes` processes (one per CPU when 0); `reading` is the database URL the other
    processes read through. They hand back only the shaped statements (a replay's totals are
    a few bytes a rep; whole statements would cost this process as much to take in). Without
    `provenance` (a replay's preview) no sources or fingerprints are worked out (a quarter
    of the engine's time on a 1M-event quarter)."""
    with engine.connect() as conn:
        shared, groups = period_pass(conn, period, plan, known_at, provenance)
    processes = min(processes_for(processes), len(groups))
    if processes <= 1:
        with engine.connect() as conn:
            for group in groups:
                yield from _state_group(conn, (shared, shape), group)
        return
    for shaped in across_processes(reading, processes, (shared, shape), _state_group, groups):
        yield from shaped


def _state_group(conn: Connection, work: tuple[PeriodPass, Callable[[Statement], T]],
                 group: list[str]) -> list[T]:
    shared, shape = work
    with collector_paused():  # the group's view and statements are gone before it resumes
        return [shape(statement) for statement in shared.state(conn, group)]
