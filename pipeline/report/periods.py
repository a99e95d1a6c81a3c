"""Calendar helpers of the report: periods, ISO weeks, French dates.

Every date of the report is a *local* date in ``REPORT_TZ`` (Europe/Paris): a
complaint received at 23:30 UTC on 31 January belongs to 1 February for a French
reader. Periods are closed intervals of dates ``[start, end]``.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

REPORT_TZ = "Europe/Paris"

MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)


def as_date(value) -> date:
    """A ``date`` from a date, datetime, pandas Timestamp or ISO string."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    return date.fromisoformat(str(value).strip()[:10])


def week_bounds(day) -> tuple[date, date]:
    """Monday and Sunday of the ISO week containing ``day``."""
    day = as_date(day)
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def month_bounds(day) -> tuple[date, date]:
    """First and last day of the month containing ``day``."""
    day = as_date(day)
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)


def previous_period(start, end) -> tuple[date, date]:
    """The period of equal length just before ``[start, end]``."""
    start, end = as_date(start), as_date(end)
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def trend_weeks(end, weeks: int) -> list[date]:
    """Mondays of the ``weeks`` ISO weeks ending with the week that contains ``end``."""
    last_monday, _ = week_bounds(end)
    return [last_monday - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]


def history_start(start, end, weeks_of_trend: int) -> date:
    """First date the report needs: previous period and trend window."""
    prev_start, _ = previous_period(start, end)
    return min(prev_start, trend_weeks(end, max(int(weeks_of_trend), 1))[0])


def iso_week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-S{week:02d}"


def local_bounds_utc(start, end) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC instants of ``start`` 00:00 and ``end + 1 day`` 00:00, Paris time."""
    lo = pd.Timestamp(as_date(start)).tz_localize(REPORT_TZ).tz_convert("UTC")
    hi = pd.Timestamp(as_date(end) + timedelta(days=1)).tz_localize(REPORT_TZ).tz_convert("UTC")
    return lo, hi


def fr_date(day, *, with_year: bool = True) -> str:
    day = as_date(day)
    num = "1er" if day.day == 1 else str(day.day)
    text = f"{num} {MONTHS_FR[day.month - 1]}"
    return f"{text} {day.year}" if with_year else text


def fr_period(start, end) -> str:
    """« du 1er au 7 janvier 2024 », « du 29 janvier au 4 février 2024 »..."""
    start, end = as_date(start), as_date(end)
    if start == end:
        return f"le {fr_date(start)}"
    if start.year != end.year:
        return f"du {fr_date(start)} au {fr_date(end)}"
    if start.month != end.month:
        return f"du {fr_date(start, with_year=False)} au {fr_date(end)}"
    first = "1er" if start.day == 1 else str(start.day)
    return f"du {first} au {fr_date(end)}"


def fr_short(day) -> str:
    day = as_date(day)
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def parse_period(text: str) -> tuple[date, date]:
    """``(start, end)`` from a period written the way a user types it.

    ``2024-03`` (month), ``2024-W10`` or ``2024-S10`` (ISO week), ``2024-03-05``
    (one day), ``2024-03-01:2024-03-15`` or ``2024-03-01..2024-03-15`` (custom).
    """
    import re

    text = str(text).strip()
    m = re.fullmatch(r"(\d{4})-[WSws](\d{1,2})", text)
    if m:
        monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        return monday, monday + timedelta(days=6)
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if m:
        return month_bounds(date(int(m.group(1)), int(m.group(2)), 1))
    for sep in ("..", ":", "/"):
        if sep in text:
            a, b = text.split(sep, 1)
            start, end = as_date(a), as_date(b)
            if end < start:
                raise ValueError(f"period {text!r}: end before start")
            return start, end
    day = as_date(text)
    return day, day
