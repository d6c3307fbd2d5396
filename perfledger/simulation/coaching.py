"""Coaching sessions: team leads coach their teams, the head of sales coaches the leads."""

from __future__ import annotations

from typing import Any

from perfledger.simulation.floor import SalesFloor

_COACHING_TOPICS = (
    "discovery calls",
    "demo skills",
    "objection handling",
    "negotiation",
    "pricing against a low-cost competitor",
    "pipeline review",
    "account planning",
    "closing",
    "customer onboarding",
)


def hold_coaching_session(floor: SalesFloor, time: str) -> dict[str, Any]:
    """A session of 15 minutes to two hours on one topic, with one to three coachees."""
    rand = floor.rand
    floor.sessions += 1
    coach, pool = _coach_and_pool(floor)
    wanted = min(len(pool), 1 + int(rand() * 3))
    coachees = floor.rng.sample(pool, wanted) if wanted > 1 else [pool[int(rand() * len(pool))]]
    return floor.record(
        "lms",
        "coaching.session_held",
        time,
        {
            "session_id": f"CS-{floor.tag}{floor.sessions}",
            "coach_id": coach,
            "rep_ids": coachees,
            "topic": _COACHING_TOPICS[int(rand() * len(_COACHING_TOPICS))],
            "minutes": 15 + 5 * int(rand() * 22),
        },
    )


def _coach_and_pool(floor: SalesFloor) -> tuple[str, list[str]]:
    """The coach, and whom they may coach: mostly a team lead and their team, now and then the
    head of sales (lead of the first team) and the other leads."""
    leads = floor.staff.leads
    rand = floor.rand
    if len(leads) > 1 and rand() < 0.1:
        return leads[0], leads[1:]
    coach = leads[int(rand() * len(leads))]
    pool = floor.staff.coachees_of[coach] or [rep for rep in floor.staff.rep_ids if rep != coach]
    return coach, pool
