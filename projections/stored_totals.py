"""The stored running totals (`running_totals`), and a process's copy of them kept between
pages. Every write of totals counts one up the store's generation of them (a row of
`projection_positions`), so a copy knows whether it still holds what the store holds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from typing import Any

import orjson
from sqlalchemy import Connection, delete, select, true, update

from domain.engine.running import RunningTotals
from projections.tables import append_rows, merge_rows, pairs_among, projection_positions, running_totals

Key = tuple[str, str]  # (rep_id, period)
Team = tuple[str, str | None]  # (period, team_id)
GENERATION = "running-totals"  # its row counts the writes of running totals


class StoredTotals:
    """Every stored running total as this process last read or wrote them. A page bears on a
    few reps but reads their whole teams (about 550 totals a page of 80 facts); the copy answers
    that while the store's generation of totals is the one it holds, and is read again whole
    otherwise (another process wrote totals). Its own writes count once their transaction has
    committed (`committed`); a transaction that did not leaves the copy as it was, which the
    store then still matches."""

    def __init__(self) -> None:
        self.rows: dict[Key, RunningTotals] = {}
        self.teams: dict[Team, set[Key]] = defaultdict(set)
        self.generation: int | None = None
        # The writes of the transaction in flight: its connection, the generation before its
        # first write and after its last, and what it replaced (None: what it deleted is not
        # known here, so the copy is read again).
        self._staged: tuple[Connection, int, int, list[tuple[set[Key], dict[Key, RunningTotals]]]
                            | None] | None = None

    def load(self, conn: Connection, keys: Collection[Key]) -> dict[Key, RunningTotals]:
        """The stored totals of `keys` and of every teammate of theirs in the same period, as
        the connection's transaction sees them (it has taken the projections' write turn)."""
        self._staged = None
        generation = _generation(conn)
        if generation != self.generation:
            self.rows, self.teams = {}, defaultdict(set)
            self._put(dict(_rows(conn, true())))
            self.generation = generation
        found = {key: self.rows[key] for key in keys if key in self.rows}
        return {**self.team_rows({(key[1], t.team_id) for key, t in found.items()}), **found}

    def team_rows(self, teams: Iterable[Team]) -> dict[Key, RunningTotals]:
        """The stored totals of every member of the (period, team) pairs, as last loaded."""
        return {key: self.rows[key] for team in teams if team[1] is not None
                for key in self.teams.get(team, ())}

    def replace(self, conn: Connection, keys: set[Key], rows: dict[Key, RunningTotals]) -> None:
        """`replace_totals`, counted in the copy once the transaction commits."""
        before, after = replace_totals(conn, keys, rows)
        self._stage(conn, before, after, (keys, rows))

    def delete_teams(self, conn: Connection, keys: set[Key], team_bonus_periods: set[str]
                     ) -> None:
        """`delete_teams`; the copy is read again after it."""
        before, after = delete_teams(conn, keys, team_bonus_periods)
        self._stage(conn, before, after, None)

    def committed(self) -> None:
        """The transaction that made the staged writes has committed: count them."""
        staged, self._staged = self._staged, None
        if staged is None:
            return
        _, before, after, writes = staged
        if writes is None or self.generation != before:
            self.generation = None  # read again at the next load
            return
        for keys, rows in writes:
            for key in keys | set(rows):
                gone = self.rows.pop(key, None)
                if gone is not None:
                    self.teams[(key[1], gone.team_id)].discard(key)
            self._put(rows)
        self.generation = after

    def _stage(self, conn: Connection, before: int, after: int,
               write: tuple[set[Key], dict[Key, RunningTotals]] | None) -> None:
        if self._staged is None or self._staged[0] is not conn:  # an earlier one did not commit
            self._staged = (conn, before, after, [] if write is not None else None)
        _, first, _, writes = self._staged
        writes = None if writes is None or write is None else [*writes, write]
        self._staged = (conn, first, after, writes)

    def _put(self, rows: dict[Key, RunningTotals]) -> None:
        for key, totals in rows.items():
            self.rows[key] = totals
            self.teams[(key[1], totals.team_id)].add(key)


def replace_totals(conn: Connection, keys: set[Key], rows: dict[Key, RunningTotals]
                   ) -> tuple[int, int]:
    """Delete the stored totals of `keys`, then store `rows`; the store's generation of totals
    before and after."""
    for condition in _among(conn, keys | set(rows)):
        conn.execute(delete(running_totals).where(condition))
    append_rows(conn, running_totals, [
        {"rep_id": rep, "period": period, "team_id": totals.team_id, "totals": _encoded(totals)}
        for (rep, period), totals in sorted(rows.items())])
    return _counted(conn)


def forget_totals(conn: Connection, keys: set[Key]) -> None:
    """Delete the stored totals of `keys` and of their teammates in the same periods, which
    hold their team's target and members: their statements' recomputation stores them afresh."""
    delete_teams(conn, keys, {period for _, period in keys})
    replace_totals(conn, keys, {})


def delete_teams(conn: Connection, keys: set[Key], team_bonus_periods: set[str]
                 ) -> tuple[int, int]:
    """Delete the stored totals of the keys' teammates in periods with a team bonus; the
    store's generation of totals before and after."""
    for condition in _among(conn, keys):
        teams = {(row.period, row.team_id) for row in conn.execute(
            select(running_totals.c.period, running_totals.c.team_id).where(
                condition, running_totals.c.team_id.is_not(None)))
            if row.period in team_bonus_periods}
        for team_condition in pairs_among(conn, teams, running_totals.c.period,
                                          running_totals.c.team_id):
            conn.execute(delete(running_totals).where(team_condition))
    return _counted(conn)


def team_rows(conn: Connection, teams: set[Team]) -> list[tuple[Key, RunningTotals]]:
    """The stored totals of every member of the (period, team) pairs."""
    found: list[tuple[Key, RunningTotals]] = []
    for condition in pairs_among(conn, teams, running_totals.c.period,
                                 running_totals.c.team_id):
        found += _rows(conn, condition)
    return found


def _generation(conn: Connection) -> int:
    return int(conn.execute(select(projection_positions.c.position).where(
        projection_positions.c.name == GENERATION)).scalar() or 0)


def _counted(conn: Connection) -> tuple[int, int]:
    """Count a write of totals: the generation one up, in the writer's transaction (writers
    take turns: SQLite's write lock, the statements projection's position row on PostgreSQL)."""
    after = conn.execute(update(projection_positions).where(
        projection_positions.c.name == GENERATION).values(
        position=projection_positions.c.position + 1).returning(
        projection_positions.c.position)).scalar()
    if after is None:
        merge_rows(conn, projection_positions, [{"name": GENERATION, "position": 1}],
                   replacing=False)
        after = 1
    return int(after) - 1, int(after)


def _rows(conn: Connection, condition: Any) -> Iterable[tuple[Key, RunningTotals]]:
    query = select(running_totals.c.rep_id, running_totals.c.period, running_totals.c.totals)
    for rep, period, stored in conn.execute(query.where(condition)):
        yield (rep, period), _decoded(stored)


_DECODED: dict[str, RunningTotals] = {}  # stored text -> totals, for copies read again
DECODED_KEPT = 20_000


def _encoded(totals: RunningTotals) -> str:
    """The stored text of the totals, remembered as decoding to them."""
    stored = orjson.dumps(totals.to_json()).decode()
    _remember(stored, totals)
    return stored


def _decoded(stored: str) -> RunningTotals:
    """The totals a stored text holds, decoded once per text (totals are immutable, so a text
    always decodes to equal totals)."""
    totals = _DECODED.get(stored)
    if totals is None:
        totals = RunningTotals.from_json(orjson.loads(stored))
        _remember(stored, totals)
    return totals


def _remember(stored: str, totals: RunningTotals) -> None:
    if len(_DECODED) >= DECODED_KEPT:
        _DECODED.clear()
    _DECODED[stored] = totals


def _among(conn: Connection, keys: Iterable[Key]) -> Iterator[Any]:
    """Conditions that together match the running totals of the (rep, period) keys."""
    return pairs_among(conn, ((period, rep) for rep, period in keys), running_totals.c.period,
                       running_totals.c.rep_id)
