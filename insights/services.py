"""What every app that feeds figures uses: the periods of the roll-up cells (day, month,
quarter, year) and the places a figure rolls up to. Each app writes its own cells (its
`figures.py`); insights keeps the table and reads it for the boards."""

import datetime as dt

from linli import paths

MONTHS = {"month": 1, "quarter": 3, "year": 12}


def period_start(period: str, day: dt.date) -> dt.date:
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if period == "year":
        return dt.date(day.year, 1, 1)
    if period == "day":
        return day
    raise ValueError(period)


def period_end(period: str, start: dt.date) -> dt.date:
    """The first day after the period."""
    if period == "day":
        return start + dt.timedelta(days=1)
    m = start.month - 1 + MONTHS[period]
    return dt.date(start.year + m // 12, m % 12 + 1, 1)


def previous_start(period: str, start: dt.date) -> dt.date:
    return period_start(period, start - dt.timedelta(days=1))


def cells(day: dt.date | None, periods) -> set[tuple[str, dt.date]]:
    """(period, start) of every period in `periods` that holds `day`."""
    if day is None:
        return set()
    return {(p, period_start(p, day)) for p in periods}


def ancestor_paths(path: str) -> list[str]:
    """The path of every place from the city down to this one."""
    return paths.ancestors(path)
