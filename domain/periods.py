"""Periods: calendar quarters `YYYY-Qn` and months `YYYY-MM`, in UTC days."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from domain.errors import InvalidInput

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, order=True)
class Period:
    """A closed range of UTC calendar days named `YYYY-Qn` or `YYYY-MM`."""

    first_day: date
    last_day: date
    name: str

    @classmethod
    def parse(cls, text: str, field: str = "period") -> Period:
        """Return the period named by text, or raise InvalidInput naming field."""
        if match := _QUARTER.match(text):
            year, quarter = int(match[1]), int(match[2])
            return cls._span(text, year, 3 * quarter - 2, 3)
        if match := _MONTH.match(text):
            return cls._span(text, int(match[1]), int(match[2]), 1)
        raise InvalidInput(field, f"{text!r} is not a period (use YYYY-Qn or YYYY-MM)")

    @classmethod
    def _span(cls, name: str, year: int, first_month: int, months: int) -> Period:
        first = date(year, first_month, 1)
        end_month = first_month + months
        after = date(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
        return cls(first_day=first, last_day=after - timedelta(days=1), name=name)

    @property
    def is_quarter(self) -> bool:
        """True for a quarter, False for a month."""
        return "Q" in self.name

    @property
    def days(self) -> int:
        """Number of calendar days in the period."""
        return (self.last_day - self.first_day).days + 1

    def contains(self, day: date) -> bool:
        """True if day falls inside the period."""
        return self.first_day <= day <= self.last_day

    def next(self) -> Period:
        """Return the period of the same kind that follows this one."""
        following = self.last_day + timedelta(days=1)
        if self.is_quarter:
            return Period.parse(f"{following.year}-Q{(following.month - 1) // 3 + 1}")
        return Period.parse(f"{following.year}-{following.month:02d}")

    def __str__(self) -> str:
        return self.name


@lru_cache(maxsize=4096)
def periods_of(day: date) -> tuple[Period, Period]:
    """Return the quarter and the month that contain day."""
    quarter = Period.parse(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    month = Period.parse(f"{day.year}-{day.month:02d}")
    return quarter, month
