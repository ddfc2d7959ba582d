"""Deadlines of the case workflow and of the report cadences, as pure functions of instants.

Every deadline is computed from an event's instant, in Asia/Shanghai (China has no daylight
saving, so calendar hours are plain arithmetic). Two kinds of windows exist:

- **calendar hours** (全天候): the 4-hour registration rule and the daily reviews of levels 3,
  2 and 1 — a clue found at 23:00 is due at 03:00 the next day;
- **working days**: the district office's review, joint meetings and rectification orders —
  the start day is not counted, the deadline is 23:59:59 of the N-th working day, holidays and
  调休 working days from `fangfei.workdays`.

Report cadences (seed 000 §四(三), seed 003 §三, seed 004 §四): weekly summary by Friday 12:00,
monthly progress by the 20th, public-security sweep summaries by the 15th and the 30th (the
month's last day when it has fewer days), campaign phases at their configured instants.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterator, Protocol

from fangfei.clock import SHANGHAI

REGISTRATION_WINDOW = timedelta(hours=4)
END_OF_DAY = time(23, 59, 59)
WEEKLY_DUE = time(12, 0)


class WorkingDays(Protocol):
    """What the domain needs of a working-day calendar (`fangfei.workdays.WorkCalendar`)."""

    def deadline(self, start: datetime, n: int) -> datetime: ...


def _aware(instant: datetime, name: str) -> datetime:
    if instant.tzinfo is None:
        raise ValueError(f"{name} must carry a timezone offset")
    return instant.astimezone(SHANGHAI)


def register_deadline(found_at: datetime) -> datetime:
    """When the clue found at `found_at` must be registered, in Asia/Shanghai time.

    A naive `found_at` is refused: without an offset the deadline could be 8 hours off."""
    return _aware(found_at, "found_at") + REGISTRATION_WINDOW


@dataclass(frozen=True)
class Rule:
    """One SLA rule: its window and what a breach does."""

    code: str
    hours: int = 0  # calendar hours, or
    working_days: int = 0  # working days (0 when the window is given per order, e.g. rectification)
    escalates: bool = False  # a breach moves the case one level up (once per clock)

    @property
    def unit(self) -> str:
        return "hours" if self.hours else "working_days"


RULES: dict[str, Rule] = {
    "registration": Rule("registration", hours=4, escalates=True),
    "triage": Rule("triage", hours=24, escalates=True),  # 三级网格: resolve or stabilize and report, daily
    "level2_review": Rule("level2_review", hours=24, escalates=True),  # 二级网格每日研判
    "level1_review": Rule("level1_review", hours=24, escalates=True),  # 一级网格每日收集、研判
    "district_review": Rule("district_review", working_days=5),
    "joint_meeting": Rule("joint_meeting", working_days=5),
    "rectification": Rule("rectification"),  # working days given by the order itself
}


def clock_deadline(rule: str, start: datetime, calendar: WorkingDays, working_days: int = 0) -> datetime:
    """The deadline of `rule` for a clock started at `start` (Shanghai time)."""
    r = RULES[rule]
    start = _aware(start, "start")
    if r.hours:
        return start + timedelta(hours=r.hours)
    days = working_days or r.working_days
    if days < 1:
        raise ValueError(f"rule {rule} needs a number of working days")
    return calendar.deadline(start, days).astimezone(SHANGHAI)


def extended_deadline(deadline: datetime, calendar: WorkingDays, hours: int = 0, working_days: int = 0) -> datetime:
    """A deadline moved by an extension: calendar hours, or working days counted from its day."""
    if hours:
        return _aware(deadline, "deadline") + timedelta(hours=hours)
    return calendar.deadline(_aware(deadline, "deadline"), working_days).astimezone(SHANGHAI)


# -- report cadences ---------------------------------------------------------------------------

def _end_of(day: date) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)


def weekly_due(iso_year: int, iso_week: int) -> datetime:
    """Friday 12:00 of ISO week `iso_week` (the week runs Monday–Sunday; week 1 holds 4 January)."""
    return datetime.combine(date.fromisocalendar(iso_year, iso_week, 5), WEEKLY_DUE, tzinfo=SHANGHAI)


def weekly_period(at: datetime) -> str:
    """The ISO week (`2026-W11`) an instant falls in: the report of that week is due its Friday."""
    y, w, _ = _aware(at, "at").isocalendar()
    return f"{y}-W{w:02d}"


def monthly_due(year: int, month: int) -> datetime:
    """24:00 of the 20th (written 23:59:59)."""
    return _end_of(date(year, month, 20))


def sweep_due(year: int, month: int, half: int) -> datetime:
    """The 15th (half 1) or the 30th (half 2) — the last day of a shorter month (February)."""
    if half == 1:
        return _end_of(date(year, month, 15))
    last = _calendar.monthrange(year, month)[1]
    return _end_of(date(year, month, min(30, last)))


@dataclass(frozen=True)
class Due:
    kind: str  # weekly | monthly | sweep
    period: str  # 2026-W11 | 2026-03 | 2026-02.15 / 2026-02.30
    due_at: datetime


def _months(start: date, end: date) -> Iterator[tuple[int, int]]:
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def cadence_dues(kind: str, after: datetime, until: datetime) -> list[Due]:
    """Every due instant of `kind` in the window (after, until], oldest first."""
    after, until = _aware(after, "after"), _aware(until, "until")
    out: list[Due] = []
    if kind == "weekly":
        monday = after.date() - timedelta(days=after.weekday())
        while monday <= until.date():
            y, w, _ = monday.isocalendar()
            out.append(Due("weekly", f"{y}-W{w:02d}", weekly_due(y, w)))
            monday += timedelta(days=7)
    elif kind == "monthly":
        out = [Due("monthly", f"{y}-{m:02d}", monthly_due(y, m)) for y, m in _months(after.date(), until.date())]
    elif kind == "sweep":
        for y, m in _months(after.date(), until.date()):
            out.append(Due("sweep", f"{y}-{m:02d}.15", sweep_due(y, m, 1)))
            out.append(Due("sweep", f"{y}-{m:02d}.30", sweep_due(y, m, 2)))
    else:
        raise ValueError(f"unknown cadence {kind!r}")
    return [d for d in out if after < d.due_at <= until]


def next_due(kind: str, after: datetime) -> Due:
    """The first due instant of `kind` strictly after `after`."""
    dues = cadence_dues(kind, after, _aware(after, "after") + timedelta(days=40))
    return dues[0]
