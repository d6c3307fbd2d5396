"""Feeding a store and reading back every read-model table, to compare builds of the same log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from importlib import resources
from typing import Any

import orjson
from sqlalchemy import Engine, func, inspect, select

from consumers.score_publisher import PUBLISHER
from domain.intake import Incoming
from projections.stored_totals import GENERATION
from projections.tables import facts, metadata, projection_positions

Rows = dict[str, list[tuple[Any, ...]]]


def sample_plan() -> str:
    """The SPEC §6 sample plan shipped with the package (every optional section in use)."""
    return resources.files("perfledger").joinpath("samples/plan.yaml").read_text(encoding="utf-8")


def incoming(events: Iterable[dict[str, Any]], origin: str = "test") -> list[Incoming]:
    """CloudEvents as inbound lines, numbered like the lines of a file."""
    return [Incoming(orjson.dumps(event), f"{origin}:{number}")
            for number, event in enumerate(events, start=1)]


def dump_read_models(engine: Engine) -> Rows:
    """Every row of every read-model table in the store, sorted, by table name; but the count
    of writes of running totals, which says how often they were written, not what they hold."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {table.name: sorted((tuple(row) for row in conn.execute(select(table))
                                    if table is not projection_positions
                                    or row.name != GENERATION), key=repr)
                for table in metadata.sorted_tables if table.name in present}


def positions(engine: Engine) -> dict[str, int]:
    """Each projection's tracked position; empty before the runner created its tables."""
    if not inspect(engine).has_table(projection_positions.name):
        return {}
    with engine.connect() as conn:
        return {row.name: row.position for row in conn.execute(select(projection_positions))
                if row.name not in (GENERATION, PUBLISHER)}


def count_rows(engine: Engine, table: Any) -> int:
    """How many rows a table holds."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def fact_positions(engine: Engine) -> list[int]:
    """Positions of the facts table, in order (with any repeats)."""
    with engine.connect() as conn:
        return [row.position for row in conn.execute(select(facts.c.position)
                                                     .order_by(facts.c.position))]


def duplicated(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows that occur more than once."""
    seen: set[str] = set()
    twice = []
    for row in rows:
        key = repr(row)
        if key in seen:
            twice.append(row)
        seen.add(key)
    return twice


def differences(expected: Rows, actual: Rows) -> dict[str, dict[str, list[str]]]:
    """Per table that differs, the rows only expected and the rows only found (with repeats)."""
    found: dict[str, dict[str, list[str]]] = {}
    for name in sorted(set(expected) | set(actual)):
        want = Counter(repr(row) for row in expected.get(name, []))
        got = Counter(repr(row) for row in actual.get(name, []))
        if want != got:
            found[name] = {"missing": sorted((want - got).elements())[:5],
                           "unexpected": sorted((got - want).elements())[:5]}
    return found
