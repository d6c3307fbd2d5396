"""The period day by day: decisions first, then each day's slots filled with facts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from perfledger.simulation.accounts import book_renewal, log_support_complaint
from perfledger.simulation.coaching import hold_coaching_session
from perfledger.simulation.deals import close_consumer_deal, close_enterprise_deal
from perfledger.simulation.floor import SalesFloor
from perfledger.simulation.lifecycle import record_follow_up
from perfledger.simulation.preparation import Setup
from perfledger.simulation.schedule import DAY_OPEN, DAY_SPAN, time_of_day

# Share of each new (not follow-up) fact, as cumulative thresholds on one uniform draw.
_P_ENTERPRISE = 0.024
_P_RENEWAL = _P_ENTERPRISE + 0.040
_P_COACHING = _P_RENEWAL + 0.030
_P_SUPPORT_COMPLAINT = _P_COACHING + 0.004
# The rest are consumer deals.


def stream(setup: Setup) -> Iterator[dict[str, Any]]:
    """The events of the prepared period, in recording order."""
    floor = SalesFloor(setup)
    period = setup.period
    opening = f"{period.first_day.isoformat()}T00:00:00Z"
    for kind, data in setup.decisions:
        yield floor.record("salesops", kind, opening, data)

    for day in range(period.days):
        prefix = f"{(period.first_day + timedelta(days=day)).isoformat()}T"
        if day == setup.revision_day:
            for data in setup.revisions:
                yield floor.record("salesops", "target.set", f"{prefix}00:00:00Z", data)
        floor.follow_ups.open_day(day)
        if setup.slots[day]:
            yield from _facts_of_the_day(floor, day, prefix, setup.slots[day])


def _facts_of_the_day(
    floor: SalesFloor, day: int, prefix: str, slots: int
) -> Iterator[dict[str, Any]]:
    """One fact per slot, at a random second of the slot's share of business hours: follow-ups
    due are given slots first, at random places in the day; new facts fill the rest."""
    rand = floor.rand
    follow_ups = floor.follow_ups
    waiting = min(follow_ups.waiting(), slots)
    # Renewals refer to enterprise deals closed before today only.
    visible_deals = len(floor.enterprise_deals)
    # A lone rep has nobody to coach: no coaching sessions then.
    p_coaching = _P_COACHING if len(floor.staff.rep_ids) > 1 else _P_RENEWAL
    p_support_complaint = p_coaching + (_P_SUPPORT_COMPLAINT - _P_COACHING)
    step = DAY_SPAN / slots
    for slot in range(slots):
        time = prefix + time_of_day(DAY_OPEN + int((slot + rand()) * step))
        if waiting and rand() * (slots - slot) < waiting:
            waiting -= 1
            yield record_follow_up(floor, follow_ups.take(), time)
            continue
        draw = rand()
        if draw >= p_support_complaint:
            yield close_consumer_deal(floor, day, time)
        elif draw < _P_ENTERPRISE:
            yield close_enterprise_deal(floor, day, time)
        elif draw < _P_RENEWAL:
            yield book_renewal(floor, time, visible_deals)
        elif draw < p_coaching:
            yield hold_coaching_session(floor, time)
        else:
            yield log_support_complaint(floor, time)
