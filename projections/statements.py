"""Live statements: every (rep, period) touched by a fact or decision is marked stale in the
page's transaction, then recomputed by the engine and stored with its summary figures and running
totals. In the page's transaction a sale or coaching session steps the running totals and writes
the score update at once (projections/running.py); the statement is recomputed behind."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table, delete, select

from domain.engine import LedgerView, Statement
from domain.engine.running import RunningTotals, Standing, calculate_with_totals, standing_of
from domain.money import decimal_text, money_text, to_ratio
from domain.periods import Period, periods_of
from domain.plan import Plan
from domain.plan_book import PlanBook
from projections.facts import FactsProjection, named_reps
from projections.loader import (
    Delivered,
    load_decisions,
    load_delivered,
    load_disputed,
    load_view,
    team_groups,
    widen_to_teams,
)
from projections.pool import across_processes
from projections.runner import Logged, collector_paused
from projections.running import RunningPage
from projections.score_updates import record_score_updates
from projections.stored_totals import StoredTotals, forget_totals
from projections.tables import (
    among,
    append_rows,
    fact_reps,
    facts,
    live_statements,
    merge_rows,
    projection_positions,
    running_totals,
    stale_causes,
    stale_statements,
)

PlanFor = Callable[[Period], Plan | None]
DECISION_KINDS = ("roster.assigned", "target.set")  # what a period's roster and targets are made of
SETTLE_REPS = 100  # stale reps (in whole teams) recomputed per transaction


class LiveStatements:
    """Keeps `live_statements` equal to what the engine computes from everything recorded."""

    name = "statements"
    tables: tuple[Table, ...] = (live_statements, running_totals, stale_statements, stale_causes)

    def __init__(self, plan_for: PlanFor, clock: Callable[[], datetime], *,
                 reading: str | None = None, processes: int = 1) -> None:
        self.plan_for = plan_for
        self.clock = clock
        # After a bulk load, the recomputation is spread over `processes` processes reading
        # through the database URL `reading` (projections/pool.py).
        self.reading, self.processes = reading, processes
        # Each period's roster and targets as of `_decided_through`, kept across pages until a
        # page brings a decision or does not follow on (another process applied pages between).
        self._decisions: dict[str, LedgerView] = {}
        self.totals = StoredTotals()  # the stored running totals, kept across pages
        self._tracked_months: set[str] | None = None
        self._decided_through = 0
        self.bulk = False  # pages applied in bulk: statements settle at the end, nothing steps

    @contextmanager
    def in_bulk(self) -> Iterator[None]:
        """Apply pages without stepping running totals or publishing per page (a rebuild, a
        file's ingest): the totals the pages bear on are forgotten, and the recomputation at the
        end stores them afresh and publishes only the figures that changed."""
        self.bulk = True
        try:
            yield
        finally:
            self.bulk = False

    def process(self, conn: Connection, events: Sequence[Logged]) -> None:
        """Mark stale every (rep, period) the page's events bear on, with the events as causes."""
        causes: list[dict[str, str]] = []
        decisions = self._decisions_for(conn, events)
        index = PageIndex(conn, events, self._months(conn))
        bearing: list[tuple[Logged, set[tuple[str, str]], str]] = []
        for logged in events:
            event = logged.event
            if isinstance(event, PlanBook.PlanAdopted):
                touched, cause = _existing(conn, event.period), f"plan:{event.plan_ref}"
            elif isinstance(event, PlanBook.PlanPublished):
                touched, cause = index.every_statement(), f"plan:{event.plan_id}@{event.version}"
            elif hasattr(event, "content_hash") and hasattr(event, "kind"):
                touched, cause = index.touched(logged.position, event), event.event_id
            else:
                continue
            causes += [{"rep_id": rep, "period": period, "event_id": cause}
                       for rep, period in sorted(touched)]
            bearing.append((logged, touched, cause))
        if self.bulk:
            forget_totals(conn, {key for _, keys, _ in bearing for key in keys})
        else:
            running = RunningPage(conn, self.plan_for, decisions,
                                  [(logged, keys) for logged, keys, _ in bearing], self.totals)
            for logged, touched, cause in bearing:
                running.apply(logged, touched, cause)
            running.save(self.clock())
        if causes:
            stale = sorted({(c["rep_id"], c["period"]) for c in causes})
            merge_rows(conn, stale_statements,
                       [{"rep_id": rep, "period": period} for rep, period in stale], replacing=False)
            append_rows(conn, stale_causes, causes)

    def committed(self) -> None:
        """The page's transaction has committed: its writes of running totals count."""
        self.totals.committed()

    def _decisions_for(self, conn: Connection, events: Sequence[Logged]
                       ) -> Callable[[Period], LedgerView]:
        """The page's way to a period's roster and targets: read once, then reused by the pages
        that follow this one until one brings a roster or target decision."""
        if events[0].position != self._decided_through + 1 or any(
                getattr(logged.event, "kind", None) in DECISION_KINDS for logged in events):
            self._decisions, self._tracked_months = {}, None
        self._decided_through = events[-1].position
        return self._cached_decisions(conn)

    def _months(self, conn: Connection) -> set[str]:
        """The months with live statements (those a target names), kept like the roster and
        targets: read again once a page brings a target decision or does not follow on."""
        if self._tracked_months is None:
            self._tracked_months = tracked_months(conn)
        return self._tracked_months

    def _settled_decisions(self, conn: Connection) -> Callable[[Period], LedgerView]:
        """The recomputation's way to a period's roster and targets: the pages' cache while it
        holds what the facts table holds (this process applied the last page), else read afresh
        (another process applied pages, or they were applied in bulk). Reading them took two
        thirds of a recomputation of 20 reps: the roster and targets of 1,000 reps."""
        position = _facts_position(conn)
        if position != self._decided_through:
            self._decisions, self._tracked_months, self._decided_through = {}, None, position
        return self._cached_decisions(conn)

    def _cached_decisions(self, conn: Connection) -> Callable[[Period], LedgerView]:
        def decisions(period: Period) -> LedgerView:
            if period.name not in self._decisions:
                self._decisions[period.name] = load_decisions(conn, period)
            return self._decisions[period.name]
        return decisions

    def settle(self, engine: Engine) -> None:
        """Recompute every stale statement."""
        for _ in self.settle_steps(engine):
            pass

    def settle_steps(self, engine: Engine, reps_per_step: int = SETTLE_REPS) -> Iterator[int]:
        """Recompute the stale statements period by period, a few whole teams (about
        `reps_per_step` reps) per transaction, yielding after each (how many reps it settled) so a
        caller can publish in between. After a bulk load the groups are computed in several
        processes and written here one by one, while no page comes in between."""
        with engine.connect() as conn:
            pending = defaultdict(set)
            for rep, period in conn.execute(select(stale_statements)):
                pending[period].add(rep)
        for name, reps in sorted(pending.items()):
            period = Period.parse(name)
            plan = self.plan_for(period)
            if plan is None:
                continue  # computed once a plan is published
            with engine.connect() as conn:  # to group the reps by team
                teams = self._settled_decisions(conn)(period).teams
            groups = list(team_groups(reps, teams, reps_per_step))
            if self.bulk and self.reading and self.processes > 1 and len(groups) > 1:
                groups = yield from self._spread(engine, period, plan, groups)
            for group in groups:
                self._recompute(engine, period, plan, group)
                yield len(group)

    def _spread(self, engine: Engine, period: Period, plan: Plan, groups: list[list[str]]
                ) -> Generator[int, None, list[list[str]]]:
        """Compute the groups in other processes, reading the ledger as of now, and write each
        here; return the groups left when a page was applied in between (another process
        recorded facts), which are then recomputed one by one."""
        assert self.reading is not None
        with engine.connect() as conn:
            through = _facts_position(conn)
            work = Recomputation(period, plan, self._settled_decisions(conn)(period), through,
                                 load_delivered(conn, period, through=through),
                                 load_disputed(conn, through=through))
        computed = across_processes(self.reading, min(self.processes, len(groups)), work,
                                    recomputed, groups)
        for done, (group, (members, rows)) in enumerate(zip(groups, computed, strict=True)):
            with engine.begin() as conn:
                _serialise_settling(conn)
                if _facts_position(conn) != through:
                    computed.close()
                    return groups[done:]
                self._store(conn, period, group, members, rows, work.decisions.teams)
            self.totals.committed()
            yield len(group)
        return []

    def _recompute(self, engine: Engine, period: Period, plan: Plan, reps: list[str]) -> None:
        with engine.begin() as conn:
            _serialise_settling(conn)
            decisions = self._settled_decisions(conn)(period)  # as of this transaction
            members, rows = recomputed(conn, Recomputation(period, plan, decisions), reps)
            self._store(conn, period, reps, members, rows, decisions.teams)
        self.totals.committed()

    def _store(self, conn: Connection, period: Period, reps: list[str], members: list[str],
               rows: list[Recomputed], teams: dict[str, str]) -> None:
        """Write the recomputed statements of `members` (the stale `reps`, widened to their
        teams under a team bonus), their totals and score updates; the reps are stale no more."""
        conn.execute(delete(live_statements).where(
            live_statements.c.period == period.name, live_statements.c.rep_id.in_(members)))
        conn.execute(live_statements.insert(), [row for row, _, _ in rows])
        by_key = {(row["rep_id"], row["period"]): (totals, standing)
                  for row, totals, standing in rows}
        self.totals.replace(conn, set(by_key),
                            {key: totals for key, (totals, _) in by_key.items()})
        causes = _with_team_causes(_causes(conn, period, reps), teams, members, period)
        record_score_updates(conn, {key: standing for key, (_, standing) in by_key.items()},
                             causes, self.clock())
        for table in (stale_statements, stale_causes):
            conn.execute(delete(table).where(
                table.c.period == period.name, table.c.rep_id.in_(reps)))


Recomputed = tuple[dict[str, Any], RunningTotals, Standing]  # live_statements row, totals, figures


@dataclass(frozen=True)
class Recomputation:
    """What recomputing a period's stale statements shares: the period, its plan, its roster and
    targets, and (spread over processes) the last ledger position read, with the deals
    delivered in the period and those disputed up to it (projections/loader.py)."""

    period: Period
    plan: Plan
    decisions: LedgerView
    through: int | None = None
    delivered: Delivered | None = None
    disputed: frozenset[str] | None = None


def recomputed(conn: Connection, work: Recomputation, reps: list[str]
               ) -> tuple[list[str], list[Recomputed]]:
    """The statements of the stale reps, and of their teammates under a team bonus (a rep's
    sales move the bonus of every member of the team): who was recomputed, and what to store."""
    with collector_paused():  # the view is gone before it resumes
        return _recomputed(load_view(conn, work.period, reps, decisions=work.decisions,
                                     through=work.through, delivered=work.delivered,
                                     disputed=work.disputed), work.plan, reps)


def _recomputed(view: LedgerView, plan: Plan, reps: list[str]
                ) -> tuple[list[str], list[Recomputed]]:
    members = sorted(widen_to_teams(view, reps)) if plan.team_bonus else reps
    return members, [(summary_row(statement), totals, standing_of(statement))
                     for statement, totals in calculate_with_totals(view, plan, members)]


def _facts_position(conn: Connection) -> int:
    """The last ledger position the facts table holds."""
    return int(conn.execute(select(projection_positions.c.position).where(
        projection_positions.c.name == FactsProjection.name)).scalar_one())


def _serialise_settling(conn: Connection) -> None:
    """Recompute between pages, never across one: take the statements projection's position row
    as pages do, so no page commits facts, running totals or stale marks between what this
    transaction reads and what it writes (SQLite's write lock, taken at BEGIN, already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(projection_positions.c.position)
                     .where(projection_positions.c.name == LiveStatements.name).with_for_update())


def _causes(conn: Connection, period: Period, reps: list[str]) -> dict[tuple[str, str], list[str]]:
    """The events that made each of the reps' statements stale."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    query = select(stale_causes.c.rep_id, stale_causes.c.event_id).where(
        stale_causes.c.period == period.name, stale_causes.c.rep_id.in_(reps))
    for rep_id, event_id in conn.execute(query):  # unpacked: a bulk load's are 220,000 rows
        found[(rep_id, period.name)].append(event_id)
    return found


def _with_team_causes(causes: dict[tuple[str, str], list[str]], teams: dict[str, str],
                      members: list[str], period: Period) -> dict[tuple[str, str], list[str]]:
    """A teammate recomputed for the team bonus is caused by what changed its team."""
    by_team: dict[str, list[str]] = defaultdict(list)
    for (rep, _), events in causes.items():
        if rep in teams:
            by_team[teams[rep]] += events
    for rep in members:
        if not causes.get((rep, period.name)) and rep in teams:
            causes[(rep, period.name)] = by_team[teams[rep]]
    return causes


def summary_row(statement: Statement) -> dict[str, Any]:
    """The stored form of a live statement: its JSON and the figures tables show."""
    target = statement.effective_targets.get("revenue")
    attainment = statement.attainment.get("revenue")
    score = statement.scorecard.score
    return {
        "rep_id": statement.rep_id, "period": statement.period, "team_id": statement.team_id,
        "credited_revenue": money_text(statement.credited_revenue),
        "revenue_target": money_text(target.value) if target else None,
        "attainment": decimal_text(to_ratio(attainment)) if attainment is not None else None,
        "score": decimal_text(score) if score is not None else None,
        "total": money_text(statement.total), "fingerprint": statement.fingerprint,
        "statement": orjson.dumps(statement.to_json()).decode(),
    }


class PageIndex:
    """What a page's facts bear on, fetched with a few queries for the whole page: the reps each
    fact names (read from the facts themselves) and, for facts about an earlier deal (delivery,
    cancellation, complaint, renewal), the deal's close and delivery and the close's reps."""

    def __init__(self, conn: Connection, events: Sequence[Logged], months: set[str]) -> None:
        self.conn = conn
        self.tracked_months = months
        facts_here = [e for e in events if hasattr(e.event, "kind")]
        # A close is its deal's first fact: nothing earlier to look up for it.
        deal_ids = {e.event.data["deal_id"] for e in facts_here
                    if e.event.kind != "deal.closed" and e.event.data.get("deal_id")}
        self.deal_facts: dict[str, list[Any]] = defaultdict(list)
        for row in conn.execute(select(facts.c.position, facts.c.type, facts.c.time,
                                       facts.c.deal_id).where(
                facts.c.type.in_(("deal.closed", "deal.delivered")),
                among(conn, facts.c.deal_id, deal_ids))) if deal_ids else ():
            self.deal_facts[row.deal_id].append(row)
        self.reps_at: dict[int, list[str]] = defaultdict(list, {
            e.position: [rep for rep, _ in named_reps(e.event.kind, e.event.data)]
            for e in facts_here})
        earlier_closes = {row.position for rows in self.deal_facts.values() for row in rows
                          if row.type == "deal.closed"} - set(self.reps_at)
        for row in conn.execute(select(fact_reps.c.position, fact_reps.c.rep_id).where(
                among(conn, fact_reps.c.position, earlier_closes))) if earlier_closes else ():
            self.reps_at[row.position].append(row.rep_id)
        self._all: set[tuple[str, str]] | None = None

    def every_statement(self) -> set[tuple[str, str]]:
        """All live (rep, period) pairs, read once per page."""
        if self._all is None:
            self._all = _existing(self.conn, None)
        return self._all

    def touched(self, position: int, event: Any) -> set[tuple[str, str]]:
        """(rep, period) pairs a fact or decision bears on; teams are widened when recomputing."""
        data, kind = event.data, event.kind
        if kind == "target.set":
            return _target_stale(self.conn, data)
        if kind == "adjustment.posted":
            return {(data["rep_id"], data["period"])}
        if kind == "roster.assigned":
            return self.every_statement() | _pairs([data["rep_id"]], self.periods(event.time))
        days, reps = [event.time], list(self.reps_at.get(position, []))
        # A cancellation also takes back the delivery bonus booked in the delivery's period.
        related = ("deal.closed", "deal.delivered") if kind == "deal.cancelled" else ("deal.closed",)
        for deal in self.deal_facts.get(data.get("deal_id") or "", []):
            if deal.type not in related:
                continue
            days.append(deal.time)
            if deal.type == "deal.closed" and kind in ("deal.delivered", "deal.cancelled"):
                reps += self.reps_at.get(deal.position, [])
        return _pairs(reps, [p for day in days for p in self.periods(day)])

    def periods(self, time: str) -> list[str]:
        """The periods with live statements that contain the time: its quarter, and its month
        when a target names the month."""
        quarter, month = periods_of(date.fromisoformat(time[:10]))
        return [quarter.name, month.name] if month.name in self.tracked_months else [quarter.name]


def tracked_months(conn: Connection) -> set[str]:
    """Quarters always have live statements; a month once a target names it."""
    return {period for period, in conn.execute(
        select(facts.c.target_period).where(facts.c.type == "target.set",
                                            facts.c.target_period.is_not(None)).distinct())
            if period and "Q" not in period}


def _target_stale(conn: Connection, data: dict[str, Any]) -> set[tuple[str, str]]:
    scope, period = data["scope"], data["period"]
    if scope.startswith("rep:"):
        return {(scope.removeprefix("rep:"), period)}
    if scope.startswith("team:"):
        team = scope.removeprefix("team:")
        members = conn.execute(select(live_statements.c.rep_id).where(
            live_statements.c.period == period, live_statements.c.team_id == team))
        return {(rep, period) for rep, in members}
    return set()


def _existing(conn: Connection, period: str | None) -> set[tuple[str, str]]:
    query = select(live_statements.c.rep_id, live_statements.c.period)
    if period is not None:
        query = query.where(live_statements.c.period == period)
    return {(rep, name) for rep, name in conn.execute(query)}


def _pairs(reps: Iterable[str], periods: Iterable[str]) -> set[tuple[str, str]]:
    return {(rep, period) for rep in reps for period in periods}
