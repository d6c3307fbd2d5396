"""Work done in a forked process alongside this one: a file's ingest records batch after batch
here while the pages process applies what has committed to the read models (`System.ingest`).

The process is forked, so it starts at once with the code in memory. It must touch nothing it
inherited but its arguments (no connection, pool thread or lock of this process): the pages
process builds a System of its own from the settings. A failure ends it quietly, with exit
status 1 and no trace: whatever it left, the caller does again (the projections' positions are
in the database, so nothing is applied twice), and an error that was not the process's alone is
raised there, in the caller's own process.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.synchronize import Event

Work = Callable[[Event], None]  # does its work until the event is set and nothing is left


@contextmanager
def alongside(work: Work, name: str) -> Iterator[None]:
    """`work(finished)` in a forked process for the length of the block. Leaving the block,
    however it is left, sets `finished` and waits for the process to end: the work done by
    then is done, and no process outlives the block."""
    context = multiprocessing.get_context("fork")
    finished = context.Event()
    process = context.Process(target=_quietly, args=(work, finished), name=name, daemon=True)
    process.start()
    try:
        yield
    finally:
        finished.set()
        process.join()


def _quietly(work: Work, finished: Event) -> None:
    try:
        work(finished)
    except BaseException:  # the caller does again what was left, and reports what failed
        sys.exit(1)
