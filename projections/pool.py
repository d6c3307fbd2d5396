"""Work on groups of reps spread over forked processes that only read the database: a whole
period's statements for a replay or a close, and the statements' recomputation after a bulk load.
The groups do not depend on each other, so a machine with more than one core does them that many
times faster; every process reads the ledger only up to the position the caller fixed.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine

Item = TypeVar("Item")
Result = TypeVar("Result")
Work = Callable[[Connection, Any, Any], Any]  # (connection, what every item shares, item)

_PROCESS: dict[str, Any] = {}  # a pool process's engine, shared inputs and work


def processes_for(setting: int) -> int:
    """The processes a pass may use: the setting, or one per CPU when it is 0."""
    return setting or os.cpu_count() or 1


def across_processes(reading: str, processes: int, shared: Any,
                     work: Callable[[Connection, Any, Item], Result],
                     items: Sequence[Item]) -> Generator[Result, None, None]:
    """`work(conn, shared, item)` for every item, in `processes` forked processes reading through
    the database URL `reading`, yielded in the items' order. Forked, the processes start at once
    with the modules and `shared` (a plan, a roster) already in memory; `work` must be a
    module-level function. Leaving the loop early cancels the items not yet started."""
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(processes, context, _start_process, (reading, shared, work))
    try:
        yield from pool.map(_run, items)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start_process(reading: str, shared: Any, work: Work) -> None:
    """A pool process only reads, and what it reads is fixed by the caller's last position, so
    it needs neither the write lock SQLite connections of the ledger take nor a snapshot."""
    _PROCESS.update(engine=create_engine(reading), shared=shared, work=work)


def _run(item: Any) -> Any:
    with _PROCESS["engine"].connect() as conn:
        return _PROCESS["work"](conn, _PROCESS["shared"], item)
