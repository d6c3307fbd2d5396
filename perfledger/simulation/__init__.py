"""A seeded, deterministic simulation of a sales period as CloudEvents (SPEC §2-4).

`simulate(period, reps, seed)` yields the events of one quarter (`YYYY-Qn`) or month (`YYYY-MM`)
in recording order, ready to be ingested in one pass:

1. `roster.assigned` for every rep (teams of about eight: a team lead who is also an enterprise
   account executive, one presales engineer, one aftersales / customer-success rep, two more
   enterprise AEs and consumer-app reps for the rest);
2. the annual-plan `target.set` decisions: per rep `revenue`, `new_customers`,
   `coaching_minutes` and, for some reps, `complaint_allowance`; one `org` revenue target and
   revenue targets for a couple of teams;
3. the facts in business-time order, with a mid-period revision of the revenue target of about a
   tenth of the reps ("competitor price cut") recorded on the middle day of the period.

The same arguments always give the same events: one `random.Random(seed)` drives everything and
no clock, uuid or global state is read. Facts are spread over the days of the period (weekdays
busier than weekends, a rush in the closing days); lifecycle facts (`deal.delivered`,
`deal.cancelled`) and complaints about a deal are scheduled when the deal closes, on a later day,
and dropped when they would fall after the period. When `events` is given the output has exactly
that many events: every day has a fixed number of slots, follow-ups due that day are given slots
first (at random places in the day) and new facts fill the rest.

Where things live: `roster` (who the reps and teams are), `decisions` (roster assignments and
targets, the mid-period revision included), `preparation` (arguments, sizes, everything decided
before the first event), `schedule` (slots per day, follow-ups due later), `floor` (what the fact
writers share), `customers`, `deals`, `lifecycle` (what follows a deal), `accounts` (renewals and
support complaints), `coaching` and `stream` (the period, day by day).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from perfledger.simulation.preparation import prepare
from perfledger.simulation.stream import stream

__all__ = ["simulate"]


def simulate(
    period: str, reps: int, seed: int, events: int | None = None
) -> Iterator[dict[str, Any]]:
    """Yield the CloudEvents of a simulated period, in recording order.

    `period` is `YYYY-Qn` or `YYYY-MM`; `reps` the number of sales reps (at least 1); `seed` makes
    the output reproducible; `events`, when given, is the exact number of events produced, the
    roster and target decisions included (otherwise about 100 per rep for a quarter, 35 for a
    month). Arguments are checked at once: a bad one raises ValueError naming it.
    """
    setup = prepare(period, reps, seed, events)
    return stream(setup)
