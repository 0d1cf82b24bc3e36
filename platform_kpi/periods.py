"""Reporting periods: which month counts as "last month" for the report, the dashboard and the CLI.

One definition, so the monthly report and the dashboard's default month can never disagree. Pure
Python (no Dagster): the dashboard imports it too.
"""

from __future__ import annotations

import datetime as dt


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def last_full_month(today: dt.date | None = None) -> dt.date:
    """The first day of the last complete calendar month before ``today`` (default: today, UTC).

    On 1 December, 15 December and 31 December alike it is 1 November: the current month is never
    complete until it has ended.
    """
    today = today or today_utc()
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def default_month(months: list[dt.date], today: dt.date | None = None) -> dt.date:
    """The month a view opens on, given the months that have data (ascending): the last full month,
    or the newest month of data before it when that month has none (an old warehouse). When every
    month of data is after it (``today`` set in the past), the oldest month."""
    if not months:
        raise ValueError("no months to choose from")
    target = last_full_month(today)
    earlier = [m for m in months if m <= target]
    return earlier[-1] if earlier else months[0]
