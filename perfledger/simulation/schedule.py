"""When facts happen: how many on each day, and the follow-ups that fall due on a later day."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from domain.periods import Period

# Business hours of facts, in seconds after midnight UTC: 07:00:00 to 20:59:59.
DAY_OPEN = 7 * 3600
DAY_SPAN = 14 * 3600

# "HH:MM:" of every minute of a day and "SSZ" of every second of a minute: formatting each fact's
# time from numbers took a fifth of the simulation's time.
_MINUTE_MARKS = tuple(f"{minute // 60:02d}:{minute % 60:02d}:" for minute in range(24 * 60))
_SECOND_MARKS = tuple(f"{second:02d}Z" for second in range(60))


def time_of_day(seconds: int) -> str:
    """`HH:MM:SSZ` of `seconds` after midnight UTC."""
    minutes, second = divmod(seconds, 60)
    return f"{_MINUTE_MARKS[minutes]}{_SECOND_MARKS[second]}"


def daily_slots(period: Period, facts: int) -> list[int]:
    """Split `facts` over the days: weekdays busier than weekends, a rush at the end."""
    rush = 10 if period.is_quarter else 5
    weights: list[int] = []
    for offset in range(period.days):
        weekday = (period.first_day + timedelta(days=offset)).weekday()
        closing = offset >= period.days - rush
        if weekday >= 5:
            weights.append(3 if closing else 2)
        else:
            weights.append(13 if closing else 8)
    total = sum(weights)
    counts = [facts * weight // total for weight in weights]
    left = facts - sum(counts)
    by_remainder = sorted(
        range(period.days), key=lambda day: (-(facts * weights[day] % total), day)
    )
    for day in by_remainder[:left]:
        counts[day] += 1
    return counts


class Delivery(NamedTuple):
    deal_id: str


class Cancellation(NamedTuple):
    deal_id: str
    reason: str


class DealComplaint(NamedTuple):
    deal_id: str
    customer_id: str
    rep_id: str
    severity: str
    category: str


FollowUp = Delivery | Cancellation | DealComplaint


class FollowUps:
    """Facts scheduled when a deal closes, handed out in the order they fall due."""

    __slots__ = ("_days", "_due", "_head", "_pending")

    def __init__(self, days: int) -> None:
        self._days = days
        self._due: list[list[FollowUp] | None] = [None] * days
        # Due and not yet recorded: the items from `_head` on.
        self._pending: list[FollowUp] = []
        self._head = 0

    def schedule(self, day: int, fact: FollowUp) -> None:
        """Have `fact` fall due on `day`; dropped when that is after the period."""
        if day < self._days:
            bucket = self._due[day]
            if bucket is None:
                self._due[day] = [fact]
            else:
                bucket.append(fact)

    def open_day(self, day: int) -> None:
        """Add the facts falling due on `day` behind those still waiting."""
        bucket = self._due[day]
        if bucket is not None:
            self._pending.extend(bucket)
            self._due[day] = None
        if self._head and self._head * 2 > len(self._pending):
            del self._pending[: self._head]
            self._head = 0

    def waiting(self) -> int:
        """How many facts are due and not yet recorded."""
        return len(self._pending) - self._head

    def take(self) -> FollowUp:
        """The longest-waiting fact, now to be recorded."""
        fact = self._pending[self._head]
        self._head += 1
        return fact
