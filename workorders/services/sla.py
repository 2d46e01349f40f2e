"""Deadlines: which limit applies to a stage, and when it falls.

Limits are SlaRule rows (minutes, an urgent variant, effective dates) looked up on the category
and then its ancestors; a category with none falls back to DEFAULT_MINUTES. A category marked
`working_hours` counts only the calendar's working time: Monday–Friday, the hours in
settings.LINLI_WORK_HOURS, minus Holiday rows with working=False, plus swapped working days
(调休, working=True).
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from .. import access
from ..models import Category, Stage

# Taiyuan's figures (DOMAIN.md) for filing, dispatch and verification; two days to handle.
DEFAULT_MINUTES = {
    Stage.FILE: (30, 10),
    Stage.DISPATCH: (30, 10),
    Stage.HANDLE: (2 * 24 * 60, 4 * 60),
    Stage.VERIFY: (120, 60),
}

# The stages an order still has ahead of it, from each stage (for the closing deadline).
REMAINING = {
    Stage.FILE: (Stage.FILE, Stage.DISPATCH, Stage.HANDLE, Stage.VERIFY),
    Stage.DISPATCH: (Stage.DISPATCH, Stage.HANDLE, Stage.VERIFY),
    Stage.HANDLE: (Stage.HANDLE, Stage.VERIFY),
    Stage.VERIFY: (Stage.VERIFY,),
}




def limit_minutes(category: Category, stage: str, urgent: bool, on: dt.date | None = None) -> int:
    """The limit in force for a stage on a day (the category's own rule, else its parent's...)."""
    on = on or timezone.localdate()
    table = access.rule_tables()["sla"]
    for node in access.lineage(category.pk):
        for valid_from, valid_to, minutes, urgent_minutes in table.get((node, stage), ()):
            if valid_from <= on and (valid_to is None or valid_to > on):
                return (urgent_minutes or minutes) if urgent else minutes
    normal, fast = DEFAULT_MINUTES[stage]
    return fast if urgent else normal


def _work_hours() -> list[tuple[dt.time, dt.time]]:
    spans = []
    for span in getattr(settings, "LINLI_WORK_HOURS", ("09:00-12:00", "13:30-17:30")):
        start, end = span.split("-")
        spans.append((dt.time.fromisoformat(start), dt.time.fromisoformat(end)))
    return spans


class Calendar:
    """Working days and hours, with the Holiday rows of the years asked about loaded once."""

    def __init__(self):
        self.spans = _work_hours()
        self.exceptions = access.rule_tables()["holidays"]

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def add(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """`start` plus `minutes` of working time (aware, in the project's zone)."""
        tz = timezone.get_current_timezone()
        now = timezone.localtime(start, tz)
        left = dt.timedelta(minutes=minutes)
        day = now.date()
        for _ in range(3660):  # ten years of days: a safety stop, never reached by real limits
            if self.is_working_day(day):
                for begin, end in self.spans:
                    span_start = timezone.make_aware(dt.datetime.combine(day, begin), tz)
                    span_end = timezone.make_aware(dt.datetime.combine(day, end), tz)
                    if now >= span_end:
                        continue
                    cursor = max(now, span_start)
                    room = span_end - cursor
                    if left <= room:
                        return cursor + left
                    left -= room
                    now = span_end
            day += dt.timedelta(days=1)
            now = timezone.make_aware(dt.datetime.combine(day, dt.time(0, 0)), tz)
        raise ValueError("deadline beyond ten years")


def add_minutes(start: dt.datetime, minutes: int, working_hours: bool, calendar: Calendar | None = None) -> dt.datetime:
    if not working_hours:
        return start + dt.timedelta(minutes=minutes)
    return (calendar or Calendar()).add(start, minutes)


def stage_due(category: Category, stage: str, urgent: bool, start: dt.datetime) -> dt.datetime:
    minutes = limit_minutes(category, stage, urgent, timezone.localdate(start))
    return add_minutes(start, minutes, category.working_hours)


def closing_deadline(category: Category, stage: str, urgent: bool, start: dt.datetime) -> dt.datetime:
    """When the order must be closed if every stage from `stage` on takes its full limit."""
    on = timezone.localdate(start)
    minutes = sum(limit_minutes(category, s, urgent, on) for s in REMAINING[stage])
    if category.kind == "service" and category.time_limit_days:
        # A one-window item promises a number of working days from acceptance.
        minutes = max(minutes, category.time_limit_days * minutes_per_working_day())
        return add_minutes(start, minutes, True)
    return add_minutes(start, minutes, category.working_hours)


def minutes_per_working_day() -> int:
    return sum((dt.datetime.combine(dt.date.today(), e) - dt.datetime.combine(dt.date.today(), b)).seconds // 60 for b, e in _work_hours())
