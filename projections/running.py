"""Stepping live statements' running totals through a page of the log: a sale later than every
sale its reps' statements counted, a coaching session, a delivery, a complaint no clawback rule
matches, or a target decision that leaves a rep's revenue target as it was (its team's target moves
in every teammate's totals) moves their totals in O(1) and their score update is written at once.
Any other fact bearing on a statement drops its totals (and its team's, for a roster or plan
change under a team bonus) until the statement is recomputed, which stores them afresh. The
statement itself is recomputed behind, as before."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from domain.engine.credit import Sale, removes
from domain.engine.running import (
    RunningTotals,
    Standing,
    after_cancellation,
    after_coaching,
    after_complaint,
    after_delivery,
    after_sale,
    after_targets,
    calculate_with_totals,
    standing,
)
from domain.engine.team import team_bonus_amount
from domain.engine.view import LedgerView, Recorded
from domain.facts import ComplaintLogged
from domain.periods import Period
from domain.plan import Plan
from domain.revival import revive
from projections.loader import (
    VIEW_COLUMNS,
    load_view,
    recorded_row,
    team_groups,
    widen_to_teams,
)
from projections.runner import Logged
from projections.score_updates import record_score_updates
from projections.stored_totals import Key, StoredTotals, team_rows
from projections.tables import among, facts

Step = Callable[[RunningTotals, Plan, Key], RunningTotals | None]
STEPPED_KINDS = ("deal.closed", "renewal.booked", "coaching.session_held", "deal.delivered",
                 "deal.cancelled", "complaint.logged", "target.set")
RESTORE_PER_PAGE = 400  # dropped totals recomputed in a page; beyond, the statements' recomputation
# Facts whose recomputation changes only their reps' own totals (their teams' members stay): all
# but a roster change and a plan's adoption or publication. A target decision steps the team's
# target in every teammate's totals.
OWN_TOTALS_ONLY = ("adjustment.posted", *STEPPED_KINDS)


class RunningPage:
    """The running totals one page of events bears on: loaded with a few queries, stepped in log
    order in memory; totals a step cannot move are dropped and, at the end of the page, recomputed
    from the rep's own facts (all the totals depend on, unlike the statement's team bonus); all
    written back, with the score updates they make, in the page's transaction."""

    def __init__(self, conn: Connection, plan_for: Callable[[Period], Plan | None],
                 decisions: Callable[[Period], LedgerView],
                 events: list[tuple[Logged, set[Key]]], stored: StoredTotals) -> None:
        self.conn = conn
        self.store = stored
        self.decisions = decisions
        self.plans = {name: plan_for(Period.parse(name))
                      for name in {period for _, keys in events for _, period in keys}}
        self.stored = stored.load(conn, {key for _, keys in events for key in keys})
        self.deleted_teams = False  # then teams are read as this transaction sees them
        self.totals: dict[Key, RunningTotals | None] = dict(self.stored)
        self.moved: dict[Key, list[str]] = defaultdict(list)  # key -> the events that moved it
        self.dropped: dict[Key, list[str]] = defaultdict(list)
        self.team_wide: set[Key] = set()  # dropped by a change of their team's target or members
        self.deal_facts = _deal_facts(conn, {
            deal_id for logged, _ in events if _kind(logged) in STEPPED_KINDS
            and (deal_id := logged.event.data.get("deal_id"))})

    def apply(self, logged: Logged, keys: set[Key], cause: str) -> None:
        """Step the totals of `keys` by the event, or drop them when a step cannot apply it."""
        kind = _kind(logged)
        step = self._step_of(logged) if kind in STEPPED_KINDS else None
        if step is None:
            self.drop(keys, cause, team_wide=kind not in OWN_TOTALS_ONLY)
            return
        if kind == "target.set":  # the team's revenue target is held by every teammate
            keys = keys | self._teammates(keys)
        for key in sorted(keys):
            totals, plan = self.totals.get(key), self.plans[key[1]]
            after = None
            if totals is not None and plan is not None and totals.plan_sha256 == plan.sha256:
                after = step(totals, plan, key)
            if after is None:
                self.drop({key}, cause)
            elif after != totals:
                self.totals[key] = after
                self.moved[key].append(cause)

    def _step_of(self, logged: Logged) -> Step | None:
        """How the fact moves one (rep, period)'s totals; None when it cannot be a step: a close
        of a deal other facts already name (repeated, or arriving after its delivery)."""
        event, position = logged.event, logged.position
        if event.kind == "target.set":
            return lambda totals, plan, key: after_targets(
                totals, plan, self.decisions(Period.parse(key[1])), key[0])
        about_deal = self.deal_facts.get(event.data.get("deal_id") or "", [])
        if event.kind in DEAL_STEPS:
            return DEAL_STEPS[event.kind](event, [r for r in about_deal if r.position < position])
        if event.kind == "deal.closed" and len(about_deal) > 1:
            return None
        fact = _recorded(event)
        if event.kind == "coaching.session_held":
            return lambda totals, _, __: after_coaching(totals, fact.payload.minutes)
        payload = fact.payload
        return lambda totals, plan, key: after_sale(
            totals, plan, key[0], Sale(fact, payload.amount * payload.split_of(key[0])))

    def _teammates(self, keys: set[Key]) -> set[Key]:
        """Every member of the teams of the keys' reps, in the same period."""
        mates: set[Key] = set()
        for rep, name in keys:
            decisions = self.decisions(Period.parse(name))
            if rep in decisions.teams:
                mates |= {(mate, name) for mate in decisions.members[decisions.teams[rep]]}
        return mates

    def drop(self, keys: Iterable[Key], cause: str, *, team_wide: bool = False) -> None:
        """Forget the totals of `keys` until recomputed; `team_wide` when the change may move
        their teams' targets or members, which every teammate's totals hold."""
        for key in keys:
            self.totals[key] = None
            self.dropped[key].append(cause)
            if team_wide:
                self.team_wide.add(key)

    def save(self, computed_at: datetime) -> None:
        """Recompute the dropped totals, write every changed one, and their score updates. A
        stored total always matches the figures last published for it: totals whose figures
        cannot be published yet (a teammate's totals await recomputation) are dropped too."""
        restored = self._restore()
        wide = (set(self.dropped) - restored) & self.team_wide
        if wide:  # their teammates' totals hold a team target or membership that may have moved
            teams = {(key[1], t.team_id) for key in wide if (t := self.stored.get(key))}
            self.drop([key for key, t in self.totals.items()
                       if t is not None and (key[1], t.team_id) in teams], "")
            self.store.delete_teams(self.conn, wide, {
                period for period, plan in self.plans.items() if plan and plan.team_bonus})
            self.deleted_teams = True
        changed = {key for key in (*self.moved, *restored) if self.totals.get(key) is not None}
        causes = {key: [c for c in (*self.dropped.get(key, []), *self.moved.get(key, [])) if c]
                  for key in changed}
        standings = self._standings(changed, causes, set(self.dropped) - restored)
        for key in changed - set(standings):
            self.totals[key] = None
        changed &= set(standings)
        self.store.replace(self.conn, set(self.dropped) | set(self.moved) | changed, {
            key: totals for key in changed if (totals := self.totals[key]) is not None})
        if standings:
            record_score_updates(self.conn, standings, causes, computed_at)

    def _restore(self) -> set[Key]:
        """Recompute dropped totals (teams widened where the change was team-wide) from the
        reps' own facts, period by period, within the page's budget; return the keys restored."""
        by_period: dict[str, set[str]] = defaultdict(set)
        for rep, name in self.dropped:
            by_period[name].add(rep)
        restored: set[Key] = set()
        budget = RESTORE_PER_PAGE
        for name, dropped in sorted(by_period.items()):
            plan, period, reps = self.plans.get(name), Period.parse(name), set(dropped)
            if plan is None:
                continue
            decisions = self.decisions(period)
            wide = {rep for rep in reps if (rep, name) in self.team_wide}
            if plan.team_bonus and wide:
                old_teams = {t.team_id for rep in wide if (t := self.stored.get((rep, name)))}
                reps = reps | widen_to_teams(decisions, wide) | {
                    rep for (rep, p), t in self.stored.items()
                    if p == name and t.team_id is not None and t.team_id in old_teams}
            if plan.team_bonus:  # a teammate without totals (never stored, or dropped) too
                reps |= {mate for rep in set(reps) if rep in decisions.teams
                         for mate in decisions.members[decisions.teams[rep]]
                         if self.totals.get((mate, name)) is None}
            chosen: list[str] = []  # whole teams, within the budget; the rest wait for the
            for group in team_groups(reps, decisions.teams, 1):  # statements' recomputation
                if len(chosen) + len(group) > budget:
                    break
                chosen += group
            budget -= len(chosen)
            if not chosen:
                continue
            reps = set(chosen)
            view = load_view(self.conn, period, reps, with_teams=False, decisions=decisions)
            for statement, totals in calculate_with_totals(view, plan, sorted(reps)):
                self.totals[(statement.rep_id, name)] = totals
                restored.add((statement.rep_id, name))
        return restored

    def _standings(self, changed: set[Key], causes: dict[Key, list[str]], gone: set[Key]
                   ) -> dict[Key, Standing]:
        """The figures of every changed key and, under a team bonus, of its teammates whose
        bonus the team's new revenue moves, when every member's totals are known (`gone`:
        dropped, not recomputed); those teammates take the changed key's causes."""
        current = {key: t for key, t in self.totals.items() if t is not None}
        wanted: set[tuple[str, str | None]] = {
            (key[1], t.team_id) for key in changed if (t := current[key]).team_id is not None}
        known = {(key[1], t.team_id) for key, t in self.stored.items()}
        read = (team_rows(self.conn, wanted - known) if self.deleted_teams
                else self.store.team_rows(wanted - known).items())
        current = {**{key: t for key, t in read if key not in gone}, **current}
        teams: dict[tuple[str, str | None], dict[Key, RunningTotals]] = defaultdict(dict)
        for key, totals in current.items():
            teams[(key[1], totals.team_id)][key] = totals
        before: dict[tuple[str, str | None], dict[Key, RunningTotals]] = defaultdict(dict)
        for key, totals in self.stored.items():
            before[(key[1], totals.team_id)][key] = totals
        standings: dict[Key, Standing] = {}
        moving: dict[tuple[str, str | None], tuple[Decimal, list[Key]]] = {}
        for key in sorted(changed):
            totals, plan = current[key], self.plans[key[1]]
            assert plan is not None
            team = (key[1], totals.team_id)
            if not plan.team_bonus or totals.team_id is None:
                standings[key] = standing(totals, plan, totals.credited)
                continue
            if len(teams[team]) != totals.team_size:
                continue  # a teammate awaits recomputation, which publishes
            if team not in moving:
                moving[team] = _moving(plan, teams[team], before.get(team, {}), changed)
            revenue, mates = moving[team]
            for mate in mates:  # the key among them, and teammates whose bonus moved
                if mate not in standings:
                    standings[mate] = standing(teams[team][mate], plan, revenue)
                if mate != key:
                    causes[mate] = [*causes.get(mate, []), *causes[key]]
        return standings


def _moving(plan: Plan, mates: dict[Key, RunningTotals], was: dict[Key, RunningTotals],
            changed: set[Key]) -> tuple[Decimal, list[Key]]:
    """A team's credited revenue, and its members whose figures are to be published: the
    changed ones, and those whose team bonus the team's new revenue moves (every member when
    the team's members differ from those stored before the page)."""
    revenue = sum((t.credited for t in mates.values()), Decimal(0))
    if was.keys() != mates.keys():
        return revenue, sorted(mates)
    revenue_before = sum((t.credited for t in was.values()), Decimal(0))
    return revenue, sorted(mate for mate, totals in mates.items() if mate in changed or (
        _team_bonus(plan, revenue_before, totals) != _team_bonus(plan, revenue, totals)))


def _team_bonus(plan: Plan, team_revenue: Decimal, totals: RunningTotals) -> Decimal | None:
    return team_bonus_amount(plan, team_revenue, totals.team_target, totals.credited)


def _kind(logged: Logged) -> str | None:
    """The fact kind of a logged event; None for decisions that are not facts (plans)."""
    return getattr(logged.event, "kind", None)


def _delivery_step(event: Any, earlier: list[Any]) -> Step:
    """A delivery pays its bonus in the period it falls in, to the reps its deal credits, unless
    the deal was cancelled within the plan's window; with its close not yet known, nothing."""
    close = next((row for row in earlier if row.type == "deal.closed"), None)
    if close is None:
        return lambda totals, _, __: totals
    deal = recorded_row(close)
    cancellations = [_day(row.time) for row in earlier if row.type == "deal.cancelled"]
    day = _day(event.time)

    def step(totals: RunningTotals, plan: Plan, key: Key) -> RunningTotals:
        if not Period.parse(key[1]).contains(day):
            return totals
        cancelled = any(removes(plan, deal.day, on) for on in cancellations)
        return after_delivery(totals, plan, key[0], deal.payload, cancelled=cancelled)
    return step


def _cancellation_step(event: Any, earlier: list[Any]) -> Step:
    """A cancellation within the plan's window takes its deal off where the deal closed and
    its delivery bonus off where it was delivered; with its close not yet known, nothing."""
    close = next((row for row in earlier if row.type == "deal.closed"), None)
    if close is None:
        return lambda totals, _, __: totals
    deal, day = recorded_row(close), _day(event.time)
    delivered = next((_day(row.time) for row in earlier if row.type == "deal.delivered"), None)
    complained = any(row.type == "complaint.logged" for row in earlier)

    def step(totals: RunningTotals, plan: Plan, key: Key) -> RunningTotals | None:
        if not removes(plan, deal.day, day):
            return totals
        period = Period.parse(key[1])
        return after_cancellation(
            totals, plan, key[0], deal, closed_here=period.contains(deal.day),
            delivered_here=delivered is not None and period.contains(delivered),
            complained=complained)
    return step


def _complaint_step(event: Any, earlier: list[Any]) -> Step:
    """A complaint weighs in the period it is logged in, and may claw back in its deal's."""
    complaint, day = revive("complaint.logged", event.data), _day(event.time)
    assert isinstance(complaint, ComplaintLogged)
    close = next((row for row in earlier if row.type == "deal.closed"), None)
    closed = _day(close.time) if close is not None else None

    def step(totals: RunningTotals, plan: Plan, key: Key) -> RunningTotals | None:
        period = Period.parse(key[1])
        age = (day - closed).days if closed is not None and period.contains(closed) else None
        return after_complaint(totals, plan, complaint, logged_here=period.contains(day),
                               deal_age_days=age)
    return step


# Steps of a fact about an earlier deal, built from the fact and the deal's earlier facts.
DEAL_STEPS: dict[str, Callable[[Any, list[Any]], Step]] = {
    "deal.delivered": _delivery_step, "deal.cancelled": _cancellation_step,
    "complaint.logged": _complaint_step}


def _day(time: str) -> date:
    return date.fromisoformat(time[:10])


def _recorded(event: Any) -> Recorded[Any]:
    return Recorded(source=event.source, event_id=event.event_id,
                    time=datetime.fromisoformat(event.time), recorded_at=event.timestamp,
                    content_hash=event.content_hash, payload=revive(event.kind, event.data))


def _deal_facts(conn: Connection, deal_ids: set[str]) -> dict[str, list[Any]]:
    """Every recorded fact naming one of the deals (the page's own included), by deal id, in
    log order: a close's repeats, and what a delivery or complaint step needs of its deal."""
    found: dict[str, list[Any]] = defaultdict(list)
    if not deal_ids:
        return found
    for row in conn.execute(select(*VIEW_COLUMNS).where(among(conn, facts.c.deal_id, deal_ids))
                            .order_by(facts.c.position)):
        found[row.deal_id].append(row)
    return found
