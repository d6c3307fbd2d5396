"""Who the simulated reps are: teams of about eight, and who does what within and across them."""

from __future__ import annotations

from dataclasses import dataclass

ENTERPRISE = "enterprise"
PRESALES = "presales"
AFTERSALES = "aftersales"
CONSUMER = "consumer"

_TEAM_SIZE = 8


@dataclass(frozen=True)
class Rep:
    rep_id: str
    team: int
    role: str


def build_roster(reps: int) -> list[Rep]:
    """Teams of about eight; within a team: lead AE, presales, aftersales, two AEs, consumer."""
    team_count = max(1, (reps + _TEAM_SIZE // 2) // _TEAM_SIZE)
    roster: list[Rep] = []
    seat = 0
    for index in range(reps):
        team = index * team_count // reps
        if index and team != roster[-1].team:
            seat = 0
        roster.append(Rep(f"rep-{index + 1:04d}", team, _role_at(seat)))
        seat += 1
    return roster


def _role_at(seat: int) -> str:
    """The role of whoever takes the `seat`-th place in a team, the lead's being 0."""
    if seat in (0, 3, 4):
        return ENTERPRISE
    if seat == 1:
        return PRESALES
    if seat == 2:
        return AFTERSALES
    return CONSUMER


def team_ids(roster: list[Rep]) -> list[str]:
    """The ids of the roster's teams, `team-01` upwards, indexed by team number."""
    return [f"team-{number + 1:02d}" for number in range(roster[-1].team + 1)]


@dataclass(frozen=True, slots=True)
class Staffing:
    """Who can own, help with or coach which fact."""

    rep_ids: list[str]
    # Owners of enterprise deals.
    enterprise: list[str]
    # Owners of consumer deals: the consumer reps, or the enterprise AEs of a roster without any.
    consumer: list[str]
    # Presales and aftersales reps, who now and then own an enterprise deal themselves.
    helpers: list[str]
    aftersales: list[str]
    team_of: dict[str, int]
    # For presales and aftersales: team number -> the first rep of that role in the team.
    helper_of: dict[str, dict[int, str]]
    # The first rep of each team, in team order; the first of them is also the head of sales.
    leads: list[str]
    coachees_of: dict[str, list[str]]


def staffing(roster: list[Rep]) -> Staffing:
    """Who does what on the roster."""
    enterprise = [rep.rep_id for rep in roster if rep.role == ENTERPRISE]
    presales_of: dict[int, str] = {}
    aftersales_of: dict[int, str] = {}
    members_of: dict[int, list[str]] = {}
    for rep in roster:
        members_of.setdefault(rep.team, []).append(rep.rep_id)
        if rep.role == PRESALES:
            presales_of.setdefault(rep.team, rep.rep_id)
        elif rep.role == AFTERSALES:
            aftersales_of.setdefault(rep.team, rep.rep_id)
    leads = [members[0] for _, members in sorted(members_of.items())]
    return Staffing(
        rep_ids=[rep.rep_id for rep in roster],
        enterprise=enterprise,
        consumer=[rep.rep_id for rep in roster if rep.role == CONSUMER] or enterprise,
        helpers=[rep.rep_id for rep in roster if rep.role in (PRESALES, AFTERSALES)],
        aftersales=[rep.rep_id for rep in roster if rep.role == AFTERSALES],
        team_of={rep.rep_id: rep.team for rep in roster},
        helper_of={PRESALES: presales_of, AFTERSALES: aftersales_of},
        leads=leads,
        coachees_of={lead: members_of[team][1:] for team, lead in enumerate(leads)},
    )
