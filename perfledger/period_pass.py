"""A whole period's statements (replay, close, restate), a few whole teams at a time, in this
process or spread over several: the groups do not depend on each other, so a machine with more
than one core states a large quarter that many times faster.

Every group reads the ledger only up to one position, taken before the first group, so groups
stated by different processes (or while facts keep arriving) see the same ledger.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, func, select

from domain.engine import LedgerView, Statement, calculate_many
from domain.periods import Period
from domain.plan import Plan
from projections.loader import group_view, load_decisions, period_groups
from projections.runner import collector_paused
from projections.tables import facts

T = TypeVar("T")


@dataclass(frozen=True)
class PeriodPass:
    """What every group of one pass shares: the period, the plan, the roster and targets, and
    the last ledger position read."""

    period: Period
    plan: Plan
    decisions: LedgerView
    known_at: datetime | None
    through: int

    def state(self, conn: Connection, group: list[str]) -> list[Statement]:
        """The statements of one group of whole teams."""
        with collector_paused():
            view, reps = group_view(conn, self.period, group, self.decisions, self.known_at,
                                    self.through)
            return calculate_many(view, self.plan, reps)


def period_pass(conn: Connection, period: Period, plan: Plan, known_at: datetime | None
                ) -> tuple[PeriodPass, list[list[str]]]:
    """The pass over the period as the ledger stands now, and its groups of reps."""
    through = conn.execute(select(func.coalesce(func.max(facts.c.position), 0))).scalar_one()
    decisions = load_decisions(conn, period, known_at, through)
    shared = PeriodPass(period, plan, decisions, known_at, through)
    return shared, period_groups(conn, period, decisions, known_at, through=through)


def each_statement(engine: Engine, reading: str, period: Period, plan: Plan,
                   known_at: datetime | None, processes: int,
                   shape: Callable[[Statement], T]) -> Iterator[T]:
    """Every rep's statement of the period in the `shape` the caller needs, group by group, in
    `processes` processes (one per CPU when 0); `reading` is the database URL the other
    processes read through. They hand back only the shaped statements (a replay's totals are
    a few bytes a rep; whole statements would cost this process as much to take in)."""
    with engine.connect() as conn:
        shared, groups = period_pass(conn, period, plan, known_at)
    processes = min(pass_processes(processes), len(groups))
    if processes <= 1:
        with engine.connect() as conn:
            for group in groups:
                yield from map(shape, shared.state(conn, group))
        return
    # Forked, the processes start at once with the modules, plan and roster already in memory.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(processes, context, _start_process,
                             (reading, shared, shape)) as pool:
        for shaped in pool.map(_state_group, groups):
            yield from shaped


def pass_processes(setting: int) -> int:
    """The processes a pass may use: the setting, or one per CPU when it is 0."""
    return setting or os.cpu_count() or 1


_PROCESS: dict[str, Any] = {}  # a pass process's engine, pass and shape


def _start_process(reading: str, shared: PeriodPass, shape: Callable[[Statement], Any]) -> None:
    """A pass process only reads, and what it reads is fixed by the pass's last position, so it
    needs neither the write lock SQLite connections of the ledger take nor a snapshot."""
    _PROCESS.update(engine=create_engine(reading), shared=shared, shape=shape)


def _state_group(group: list[str]) -> list[Any]:
    with _PROCESS["engine"].connect() as conn:
        return [_PROCESS["shape"](s) for s in _PROCESS["shared"].state(conn, group)]
