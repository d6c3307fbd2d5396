"""Periods (SPEC §4): quarters and months in UTC calendar days; a fact's UTC date decides."""

from __future__ import annotations

from datetime import date

import pytest

from domain.engine import calculate
from domain.errors import InvalidInput
from domain.periods import Period, periods_of
from tests.builders import deal, tiers_plan, view_of


def test_q3_2026_runs_from_july_1st_to_september_30th_92_days() -> None:
    q3 = Period.parse("2026-Q3")

    assert (q3.first_day, q3.last_day) == (date(2026, 7, 1), date(2026, 9, 30))
    assert q3.days == 31 + 31 + 30
    assert q3.is_quarter
    assert str(q3) == "2026-Q3"


@pytest.mark.parametrize(("name", "first", "last", "days"), [
    ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), 31 + 28 + 31),
    ("2028-Q1", date(2028, 1, 1), date(2028, 3, 31), 31 + 29 + 31),  # leap year
    ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), 31 + 30 + 31),
    ("2026-02", date(2026, 2, 1), date(2026, 2, 28), 28),
    ("2028-02", date(2028, 2, 1), date(2028, 2, 29), 29),
    ("2026-12", date(2026, 12, 1), date(2026, 12, 31), 31),
])
def test_every_period_spans_its_calendar_days(name: str, first: date, last: date, days: int) -> None:
    period = Period.parse(name)

    assert (period.first_day, period.last_day, period.days) == (first, last, days)
    assert period.is_quarter == ("Q" in name)


@pytest.mark.parametrize(("name", "following"), [
    ("2026-Q3", "2026-Q4"), ("2026-Q4", "2027-Q1"), ("2026-07", "2026-08"), ("2026-12", "2027-01"),
])
def test_the_next_period_is_of_the_same_kind(name: str, following: str) -> None:
    assert Period.parse(name).next() == Period.parse(following)


@pytest.mark.parametrize("text", ["2026-Q5", "2026-Q0", "2026-13", "2026-00", "26-Q1", "2026Q3",
                                  "2026-7", "Q3-2026", ""])
def test_a_name_that_is_not_a_period_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Period.parse(text, field="data.period")

    assert refused.value.field == "data.period"
    assert "YYYY-Qn or YYYY-MM" in refused.value.message


def test_a_period_contains_its_first_and_last_day_only() -> None:
    q3 = Period.parse("2026-Q3")

    assert q3.contains(date(2026, 7, 1))
    assert q3.contains(date(2026, 9, 30))
    assert not q3.contains(date(2026, 6, 30))
    assert not q3.contains(date(2026, 10, 1))


def test_a_day_belongs_to_one_quarter_and_one_month() -> None:
    assert periods_of(date(2026, 8, 16)) == (Period.parse("2026-Q3"), Period.parse("2026-08"))
    assert periods_of(date(2026, 12, 31)) == (Period.parse("2026-Q4"), Period.parse("2026-12"))


def test_periods_sort_in_calendar_order() -> None:
    names = ["2026-Q4", "2026-Q1", "2027-Q1", "2026-Q3"]

    assert [p.name for p in sorted(Period.parse(n) for n in names)] == [
        "2026-Q1", "2026-Q3", "2026-Q4", "2027-Q1"]


def credited_in(period: str, time_of_day: str, day: str) -> str:
    view = view_of(period, deal("D1", day, "1000.00", at=time_of_day))
    return str(calculate(view, tiers_plan(), "alice").credited_revenue)


def test_a_deal_at_the_last_second_of_september_belongs_to_q3_not_q4() -> None:
    assert credited_in("2026-Q3", "23:59:59", "2026-09-30") == "1000.00"
    assert credited_in("2026-Q4", "23:59:59", "2026-09-30") == "0"


def test_a_deal_at_midnight_on_october_1st_utc_belongs_to_q4() -> None:
    assert credited_in("2026-Q3", "00:00:00", "2026-10-01") == "0"
    assert credited_in("2026-Q4", "00:00:00", "2026-10-01") == "1000.00"


def test_the_utc_date_decides_even_when_the_time_carries_another_offset() -> None:
    # 01:30 on October 1st in UTC+2 is 23:30 on September 30th in UTC: Q3.
    raw = deal("D1", "2026-10-01", "1000.00")
    raw["time"] = "2026-10-01T01:30:00+02:00"

    q3 = calculate(view_of("2026-Q3", raw), tiers_plan(), "alice")
    q4 = calculate(view_of("2026-Q4", raw), tiers_plan(), "alice")

    assert q3.credited_revenue == 1000
    assert q4.credited_revenue == 0
