"""Working days in mainland China: weekends, public holidays and adjusted working days (调休).

Deadlines stated in working days (a rectification period, the district office's review) must
skip the National Day week and count a Saturday that is an official working day. The State
Council publishes each year's arrangement in November or December, so the data must be
updatable without a release:

1. the `chinese_calendar` package (pinned; covers the years it was released for);
2. an override file, `fangfei/data/workday_overrides.yaml` in the package, plus the file named
   by `FANGFEI_WORKDAYS_FILE` if set: lists of `holidays` and `workdays` (调休上班) that win over
   the package, so an office can add next year's arrangement the day it is published;
3. for a year neither knows, Monday–Friday; `WorkCalendar.covered(year)` says so, so callers
   can warn that a deadline is provisional.

Counting follows the usual administrative rule: the day on which a period starts is not
counted (期间开始之日不计算在内); a deadline of N working days ends at 24:00 of the N-th working
day after it, written as 23:59:59 in Asia/Shanghai.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from typing import Any, Iterable, Mapping

import yaml

from .clock import SHANGHAI

OVERRIDES_ENV = "FANGFEI_WORKDAYS_FILE"
END_OF_DAY = time(23, 59, 59)


class CalendarDataError(ValueError):
    """An override file is malformed (the message names the file and the entry)."""


def _package_calendar() -> Any:
    try:
        import chinese_calendar
    except ImportError:  # the platform pins it; without it only the override file and weekends count
        return None
    return chinese_calendar


def _as_date(value: Any, source: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise CalendarDataError(f"{source}: {value!r} is not a date (YYYY-MM-DD)") from exc


def parse_overrides(data: Mapping[str, Any] | None, source: str = "overrides") -> dict[date, bool]:
    """`{"holidays": [...], "workdays": [...]}` → {day: is_workday}. A day in both lists is an error."""
    data = data or {}
    unknown = set(data) - {"holidays", "workdays", "years"}
    if unknown:
        raise CalendarDataError(f"{source}: unknown keys {sorted(unknown)} (expected holidays, workdays, years)")
    out: dict[date, bool] = {}
    for key, is_workday in (("holidays", False), ("workdays", True)):
        for raw in data.get(key) or []:
            day = _as_date(raw, source)
            if out.get(day, is_workday) != is_workday:
                raise CalendarDataError(f"{source}: {day} is listed both as a holiday and as a working day")
            out[day] = is_workday
    return out


def load_overrides_file(path: str) -> tuple[dict[date, bool], set[int]]:
    """Read one override file; (day → is_workday, years the file declares complete)."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise CalendarDataError(f"{path}: expected a mapping with holidays/workdays lists")
    years = {int(y) for y in data.get("years") or []}
    return parse_overrides(data, path), years


@dataclass
class WorkCalendar:
    """Answers "is this a working day" and adds working days. Pure once built."""

    overrides: dict[date, bool] = field(default_factory=dict)
    complete_years: set[int] = field(default_factory=set)  # years the override files fully describe
    use_package: bool = True

    def __post_init__(self) -> None:
        self._package = _package_calendar() if self.use_package else None

    def _package_knows(self, day: date) -> bool:
        if self._package is None:
            return False
        try:
            self._package.is_workday(day)
        except NotImplementedError:
            return False
        return True

    def covered(self, year: int) -> bool:
        """True if holidays of `year` are known (package or a complete override year)."""
        return year in self.complete_years or self._package_knows(date(year, 6, 1))

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if self._package is not None:
            try:
                return bool(self._package.is_workday(day))
            except NotImplementedError:
                pass
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (start itself not counted); n ≥ 1."""
        if n < 1:
            raise ValueError("n must be at least 1")
        day, counted = start, 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many working days of a period have run by `end`."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count

    def deadline(self, start: datetime, n: int) -> datetime:
        """23:59:59 Asia/Shanghai of the n-th working day after the (Shanghai) day of `start`."""
        if start.tzinfo is None:
            raise ValueError("start must carry a timezone offset")
        local = start.astimezone(SHANGHAI).date()
        return datetime.combine(self.add_working_days(local, n), END_OF_DAY, tzinfo=SHANGHAI)

    def uncovered_years(self, days: Iterable[date]) -> list[int]:
        return sorted({d.year for d in days if not self.covered(d.year)})


def default_overrides_path() -> str:
    return str(resources.files("fangfei").joinpath("data", "workday_overrides.yaml"))


def build_calendar(extra_path: str | None = None, use_package: bool = True) -> WorkCalendar:
    """The package data, then the shipped override file, then `extra_path` (later files win)."""
    overrides: dict[date, bool] = {}
    years: set[int] = set()
    for path in (default_overrides_path(), extra_path):
        if path:
            days, complete = load_overrides_file(path)
            overrides.update(days)
            years |= complete
    return WorkCalendar(overrides, years, use_package)


@functools.lru_cache(maxsize=1)
def default_calendar() -> WorkCalendar:
    """The calendar of this process: package + shipped overrides + `FANGFEI_WORKDAYS_FILE`."""
    return build_calendar(os.environ.get(OVERRIDES_ENV) or None)
