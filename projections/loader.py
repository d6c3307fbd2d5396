"""Loads the engine's view of a period from the facts read model."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, Select, select

from domain.adjustments import ADJUSTMENT_TYPE, AdjustmentPosted
from domain.engine import LedgerView, Recorded, RosterEntry, reps_in
from domain.envelope import PAYLOAD_TYPES
from domain.periods import Period
from domain.revival import revive
from domain.targets import TargetDecision
from projections.tables import DISPUTES, DISPUTING, among, fact_reps, facts

PERIOD_FACTS = ("deal.closed", "renewal.booked", "coaching.session_held", "complaint.logged",
                "deal.delivered")
REPS_PER_VIEW = 8  # reps (in whole teams) per view when stating a whole period: see docs/decisions.md
# What a view reads of a fact, in the order `recorded_row` unpacks it. A view's rows are read by
# index, not by attribute (0.1 against 0.4 µs a read: 0.6 CPU-s of a 1M-event replay).
VIEW_COLUMNS = (facts.c.position, facts.c.type, facts.c.deal_id, facts.c.source, facts.c.event_id,
                facts.c.time, facts.c.recorded_at, facts.c.content_hash, facts.c.data)
POSITION, TYPE, DEAL_ID = 0, 1, 2


def load_view(conn: Connection, period: Period, reps: Collection[str] | None = None,
              known_at: datetime | None = None, *, with_teams: bool = True,
              decisions: LedgerView | None = None, through: int | None = None,
              delivered: Delivered | None = None,
              disputed: frozenset[str] | None = None) -> LedgerView:
    """The facts and decisions bearing on the period for the reps (all reps when None), widened
    to the reps' whole teams so team bonuses can be decided. `decisions`, when given, is the
    period's `load_decisions` as known at `known_at`, already read. `through`, when given, is
    the last ledger position read: several readers of one period agree on what they see.
    `delivered`, when given, is the period's `load_delivered` as known at `known_at` up to
    `through`, already read: the reps' deliveries are then looked up by their deals.
    `disputed`, when given, is `load_disputed` as known at `known_at` up to `through`, already
    read: only those of the reps' deals are looked up for cancellations and complaints."""
    skeleton = decisions or load_decisions(conn, period, known_at, through,
                                           reps if with_teams else None)
    if reps is not None and with_teams:
        reps = widen_to_teams(skeleton, reps)
    column = facts.c.quarter if period.is_quarter else facts.c.month
    query = _known(select(*VIEW_COLUMNS).where(column == period.name,
                                               facts.c.type.in_(PERIOD_FACTS)), known_at, through)
    if reps is not None:
        query = query.where(facts.c.position.in_(
            select(fact_reps.c.position).where(fact_reps.c.rep_id.in_(sorted(reps)))))
        rows = [*conn.execute(query).all(), *_deliveries(conn, period, reps, known_at, through,
                                                         delivered)]
    else:
        rows = conn.execute(query).all()
    by_type: dict[str, list[Any]] = {kind: [] for kind in PAYLOAD_TYPES}
    for row in rows:
        by_type[row[TYPE]].append(row)
    delivered = {row[DEAL_ID] for row in by_type["deal.delivered"]}
    closed_here = {row[DEAL_ID] for row in by_type["deal.closed"]}
    older = _by_deal(conn, ("deal.closed",), delivered - closed_here, known_at, through)
    deal_ids = closed_here | delivered
    if disputed is not None:
        deal_ids &= disputed
    of_deals: dict[str, list[Any]] = {kind: [] for kind in DISPUTING}
    for row in _by_deal(conn, DISPUTING, deal_ids, known_at, through):
        of_deals[row[TYPE]].append(row)  # one look-up a deal for both
    in_period = {row[POSITION] for row in by_type["complaint.logged"]}
    cancellations = of_deals["deal.cancelled"]
    late_complaints = [row for row in of_deals["complaint.logged"]
                       if row[POSITION] not in in_period]
    if (skeleton.period, skeleton.known_at) != (period, known_at):
        raise ValueError("decisions: read for another period or known_at than the view's")
    return skeleton.with_facts(
        adjustments=_adjustments(conn, period, reps, known_at, through),
        deals=_recorded([*by_type["deal.closed"], *older]),
        deliveries=_recorded(by_type["deal.delivered"]),
        cancellations=_recorded(cancellations),
        renewals=_recorded(by_type["renewal.booked"]),
        complaints=_recorded([*by_type["complaint.logged"], *late_complaints]),
        coaching=_recorded(by_type["coaching.session_held"]),
    )


Delivered = dict[str, frozenset[str]]  # a deal delivered in a period: the reps its close credits


def load_delivered(conn: Connection, period: Period, known_at: datetime | None = None,
                   through: int | None = None) -> Delivered:
    """Every deal delivered in the period (as known at `known_at`, up to `through`), with the
    reps its close credits, whenever it closed: read once for a pass over the period's groups
    of reps, where finding each group's deliveries from its reps' deals read every deal of
    theirs again (a tenth of a 1M-event replay)."""
    delivery, closing = facts.alias("delivery"), facts.alias("closing")
    column = delivery.c.quarter if period.is_quarter else delivery.c.month
    query = select(delivery.c.deal_id, fact_reps.c.rep_id).join(
        closing, (closing.c.deal_id == delivery.c.deal_id) & (closing.c.type == "deal.closed")
    ).join(fact_reps, fact_reps.c.position == closing.c.position).where(
        column == period.name, delivery.c.type == "deal.delivered")
    if through is not None:
        query = query.where(delivery.c.position <= through, closing.c.position <= through)
    if known_at is not None:
        query = query.where(delivery.c.recorded_at <= known_at.isoformat(timespec="microseconds"))
    credited: dict[str, set[str]] = {}
    for deal_id, rep_id in conn.execute(query):
        credited.setdefault(deal_id, set()).add(rep_id)
    return {deal_id: frozenset(reps) for deal_id, reps in credited.items()}


def load_disputed(conn: Connection, known_at: datetime | None = None,
                  through: int | None = None) -> frozenset[str]:
    """Every deal a cancellation or complaint names (as known at `known_at`, up to `through`),
    in any period: read once for a pass over a period's groups of reps, so each group looks
    up only those of its deals (about one in twenty) instead of every deal of its reps (a
    tenth of a 1M-event replay). Read from the partial index of disputes: 39,000 of 1M facts."""
    return frozenset(conn.execute(_known(select(facts.c.deal_id).where(DISPUTES),
                                         known_at, through)).scalars())


def _deliveries(conn: Connection, period: Period, reps: Collection[str],
                known_at: datetime | None, through: int | None,
                delivered: Delivered | None) -> list[Any]:
    """The period's deliveries of deals crediting any of the reps (closed in any period)."""
    if delivered is not None:
        wanted = {deal_id for deal_id, credited in delivered.items()
                  if not credited.isdisjoint(reps)}
        return _by_deal(conn, ("deal.delivered",), wanted, known_at, through)
    column = facts.c.quarter if period.is_quarter else facts.c.month
    rep_deals = _known(select(facts.c.deal_id).join(
        fact_reps, fact_reps.c.position == facts.c.position).where(
        facts.c.type == "deal.closed", fact_reps.c.rep_id.in_(sorted(reps))), None, through)
    return list(conn.execute(_known(select(*VIEW_COLUMNS).where(
        column == period.name, facts.c.type == "deal.delivered",
        facts.c.deal_id.in_(rep_deals)), known_at, through)))


def load_decisions(conn: Connection, period: Period, known_at: datetime | None = None,
                   through: int | None = None, reps: Collection[str] | None = None
                   ) -> LedgerView:
    """A view holding only the period's target decisions and the roster. With `reps`, only the
    targets their statements consult: their own, their teammates' and their teams' (and any
    scope wider than a team); a statement of one rep of 1,000 then reads a few targets, not
    every rep's."""
    roster = tuple(_roster(conn, known_at, through))
    scopes = None
    if reps is not None:
        rostered = LedgerView(period=period, roster=roster, known_at=known_at)
        members, teams = widen_to_teams(rostered, reps), rostered.teams
        scopes = sorted({f"rep:{rep}" for rep in members}
                        | {f"team:{teams[rep]}" for rep in members if rep in teams})
    return LedgerView(period=period, roster=roster, known_at=known_at,
                      targets=tuple(_targets(conn, period, known_at, through, scopes)))


def period_groups(conn: Connection, period: Period, decisions: LedgerView,
                  known_at: datetime | None = None, reps_per_view: int = REPS_PER_VIEW,
                  through: int | None = None) -> list[list[str]]:
    """The reps the whole period's view would name, in groups of whole teams."""
    return list(team_groups(_named_reps(conn, period, known_at, decisions, through),
                            decisions.teams, reps_per_view))


def group_view(conn: Connection, period: Period, group: list[str], decisions: LedgerView,
               known_at: datetime | None = None, through: int | None = None,
               delivered: Delivered | None = None, disputed: frozenset[str] | None = None
               ) -> tuple[LedgerView, list[str]]:
    """One group's view, with the reps it states."""
    view = load_view(conn, period, group, known_at, decisions=decisions, through=through,
                     delivered=delivered, disputed=disputed)
    return view, sorted(reps_in(view) & set(group))


def _named_reps(conn: Connection, period: Period, known_at: datetime | None,
                decisions: LedgerView, through: int | None) -> set[str]:
    """Every rep the period's facts, targets or adjustments name (a superset of `reps_in`):
    of every rep the ledger names, those with one such fact (found at their first, where a
    join of the period's facts with their reps reads every one: 0.01–0.14 s against 1–2.8 s
    on a 1M-event quarter)."""
    column = facts.c.quarter if period.is_quarter else facts.c.month
    in_period = (column == period.name) & facts.c.type.in_(PERIOD_FACTS)
    adjusted = (facts.c.type == ADJUSTMENT_TYPE) & (facts.c.target_period == period.name)
    every = select(fact_reps.c.rep_id).distinct().subquery()
    theirs = fact_reps.alias()
    bearing = _known(select(theirs.c.position).join(
        facts, facts.c.position == theirs.c.position).where(
        theirs.c.rep_id == every.c.rep_id, in_period | adjusted), known_at, through)
    query = select(every.c.rep_id).where(bearing.exists())
    named = {rep for rep, in conn.execute(query)}
    return named | {t.scope.removeprefix("rep:") for t in decisions.targets
                    if t.scope.startswith("rep:")}


def team_groups(reps: Iterable[str], teams: dict[str, str], size: int) -> Iterator[list[str]]:
    """The reps in groups of whole teams (a rep without a team alone), about `size` each."""
    by_team: dict[tuple[str, str], list[str]] = {}
    for rep in sorted(reps):
        by_team.setdefault((teams[rep], "") if rep in teams else ("", rep), []).append(rep)
    group: list[str] = []
    for team in sorted(by_team):
        group += by_team[team]
        if len(group) >= size:
            yield group
            group = []
    if group:
        yield group


def widen_to_teams(view: LedgerView, reps: Iterable[str]) -> set[str]:
    """The reps plus every member of their teams as of the period's last day."""
    teams, reps = view.teams, set(reps)
    wanted = {teams[rep] for rep in reps if rep in teams}
    return reps | {rep for rep, team in teams.items() if team in wanted}


def _known(query: Select[Any], known_at: datetime | None, through: int | None) -> Select[Any]:
    if through is not None:
        query = query.where(facts.c.position <= through)
    if known_at is None:
        return query
    return query.where(facts.c.recorded_at <= known_at.isoformat(timespec="microseconds"))


def _by_deal(conn: Connection, kinds: tuple[str, ...], deal_ids: set[str],
             known_at: datetime | None, through: int | None) -> list[Any]:
    """The facts of the kinds naming one of the deals."""
    if not deal_ids:
        return []
    query = select(*VIEW_COLUMNS).where(facts.c.type.in_(kinds),
                                        among(conn, facts.c.deal_id, deal_ids))
    return conn.execute(_known(query, known_at, through)).all()


def _recorded(rows: Iterable[Any]) -> tuple[Recorded[Any], ...]:
    return tuple(recorded_row(row) for row in rows)


def recorded_row(row: Any) -> Recorded[Any]:
    """The engine's form of a `facts` row of `VIEW_COLUMNS` (unpacked by position: a row's
    attributes cost more than the rest of the conversion)."""
    _, kind, _, source, event_id, time, recorded_at, content_hash, data = row
    return Recorded(source, event_id, datetime.fromisoformat(time),
                    datetime.fromisoformat(recorded_at), content_hash,
                    revive(kind, orjson.loads(data)))


def _adjustments(conn: Connection, period: Period, reps: Collection[str] | None,
                 known_at: datetime | None, through: int | None
                 ) -> tuple[Recorded[AdjustmentPosted], ...]:
    query = select(*VIEW_COLUMNS).where(facts.c.type == ADJUSTMENT_TYPE,
                                        facts.c.target_period == period.name)
    if reps is not None:  # the period's few adjustments, each checked for the reps (a list of
        # the reps' positions to look adjustments up in would hold every fact of theirs)
        query = query.where(select(fact_reps.c.position).where(
            fact_reps.c.position == facts.c.position,
            fact_reps.c.rep_id.in_(sorted(reps))).exists())
    return _recorded(conn.execute(_known(query.order_by(facts.c.position), known_at, through)))


def _targets(conn: Connection, period: Period, known_at: datetime | None, through: int | None,
             scopes: list[str] | None) -> Iterable[TargetDecision]:
    query = select(facts.c.event_id, facts.c.position, facts.c.recorded_at, facts.c.data).where(
        facts.c.type == "target.set", facts.c.target_period == period.name)
    if scopes is not None:
        query = query.where(facts.c.scope.in_(scopes) | (facts.c.scope.not_like("rep:%")
                                                         & facts.c.scope.not_like("team:%")))
    first_day = period.first_day.isoformat()
    for event_id, position, recorded_at, text in conn.execute(
            _known(query.order_by(facts.c.position), known_at, through)):
        data = orjson.loads(text)
        yield TargetDecision(
            decision_id=event_id, scope=data["scope"], metric=data["metric"],
            period=data["period"], value=Decimal(data["value"]),
            effective_from=date.fromisoformat(data.get("effective_from") or first_day),
            position=position, reason=data["reason"], approved_by=data["approved_by"],
            recorded_at=datetime.fromisoformat(recorded_at))


def _roster(conn: Connection, known_at: datetime | None, through: int | None
            ) -> Iterable[RosterEntry]:
    query = select(facts.c.position, facts.c.recorded_at, facts.c.data).where(
        facts.c.type == "roster.assigned").order_by(facts.c.position)
    for position, recorded_at, text in conn.execute(_known(query, known_at, through)):
        data = orjson.loads(text)
        yield RosterEntry(data["rep_id"], data["team_id"],
                          date.fromisoformat(data["effective_from"]), position,
                          datetime.fromisoformat(recorded_at))
