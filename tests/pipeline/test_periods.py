""" "Last month" is decided once (platform_kpi.periods) for the report, the dashboard and the CLI."""

from __future__ import annotations

import datetime as dt

import pytest

from platform_kpi.periods import default_month, last_full_month
from platform_kpi.settings import load_settings

D = dt.date


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2026, 12, 1), D(2026, 11, 1)),  # the 1st: the month that just ended
        (D(2026, 12, 15), D(2026, 11, 1)),
        (D(2026, 12, 31), D(2026, 11, 1)),  # the last day: December is still not complete
        (D(2027, 1, 1), D(2026, 12, 1)),  # across the year
        (D(2027, 1, 31), D(2026, 12, 1)),
        (D(2024, 3, 1), D(2024, 2, 1)),  # after a leap February
        (D(2024, 2, 29), D(2024, 1, 1)),
    ],
)
def test_last_full_month(today: dt.date, expected: dt.date) -> None:
    assert last_full_month(today) == expected


MONTHS = [D(2026, m, 1) for m in range(1, 13)]  # data from January to December 2026


@pytest.mark.parametrize("day", [1, 15, 31])
def test_default_month_is_the_last_full_month_not_the_second_newest_month_of_data(day: int) -> None:
    # On 1 December the newest month of data (December) is a day old; the second-newest is November,
    # which is right. On the same data in early January, December is the last full month.
    assert default_month(MONTHS, D(2026, 12, day)) == D(2026, 11, 1)
    assert default_month(MONTHS, D(2027, 1, day)) == D(2026, 12, 1)
    # data that stops in October: on 1 December, November has no data, so the newest month before it
    assert default_month(MONTHS[:10], D(2026, 12, day)) == D(2026, 10, 1)


def test_default_month_of_a_warehouse_newer_than_today() -> None:
    assert default_month(MONTHS[6:], D(2026, 3, 1)) == D(2026, 7, 1)


def test_kpi_today_pins_the_date_and_a_bad_value_names_the_variable() -> None:
    assert load_settings({"KPI_TODAY": "2026-12-01"}).today == D(2026, 12, 1)
    assert load_settings({}).today is None
    with pytest.raises(ValueError, match="KPI_TODAY='1/12/2026' is not a date: use YYYY-MM-DD"):
        load_settings({"KPI_TODAY": "1/12/2026"})
