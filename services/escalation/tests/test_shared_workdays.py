"""Working days (fangfei.workdays): weekends, public holidays, 调休 working days, and an
override file an office can update when the State Council publishes a new year."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from fangfei.clock import SHANGHAI
from fangfei.workdays import CalendarDataError, WorkCalendar, build_calendar, parse_overrides

CAL = build_calendar()


@pytest.mark.parametrize("start, n, expected", [
    ("2026-09-29", 1, "2026-09-30"),  # Tue → Wed
    ("2026-09-29", 2, "2026-10-08"),  # National Day 10/1–10/7 skipped
    ("2026-09-29", 4, "2026-10-10"),  # Saturday 10/10 is an adjusted working day (调休)
    ("2026-09-29", 5, "2026-10-12"),  # Sunday 10/11 is not
    ("2026-03-13", 1, "2026-03-16"),  # Friday → Monday
    ("2026-02-13", 1, "2026-02-14"),  # Saturday 2/14 works before the Spring Festival
])
def test_adding_working_days(start: str, n: int, expected: str) -> None:
    assert CAL.add_working_days(date.fromisoformat(start), n).isoformat() == expected


def test_a_deadline_ends_at_24_00_of_the_last_working_day_in_shanghai() -> None:
    ordered = datetime(2026, 9, 29, 2, 0, tzinfo=SHANGHAI)
    assert CAL.deadline(ordered, 3).isoformat() == "2026-10-09T23:59:59+08:00"
    late_evening_utc = datetime.fromisoformat("2026-09-29T16:30:00+00:00")  # 00:30 on 9/30 in Shanghai
    assert CAL.deadline(late_evening_utc, 1).isoformat() == "2026-10-08T23:59:59+08:00"
    with pytest.raises(ValueError):
        CAL.deadline(datetime(2026, 9, 29, 10, 0), 1)


def test_working_days_between_counts_the_period_so_far() -> None:
    assert CAL.working_days_between(date(2026, 9, 29), date(2026, 10, 10)) == 4


def test_an_override_file_wins_and_covers_a_year_the_package_does_not_know(tmp_path) -> None:
    path = tmp_path / "office.yaml"
    path.write_text("holidays: [2027-01-01]\nworkdays: [2027-01-02]\nyears: [2027]\n", encoding="utf-8")
    cal = build_calendar(str(path))
    assert cal.is_workday(date(2027, 1, 2)) is True  # a Saturday made a working day
    assert cal.is_workday(date(2027, 1, 1)) is False
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 2)
    assert cal.covered(2027) and not CAL.covered(2027)
    assert CAL.covered(2026)


def test_a_year_nobody_knows_falls_back_to_monday_to_friday() -> None:
    cal = WorkCalendar()
    assert cal.is_workday(date(2031, 1, 3)) is True  # a Friday
    assert cal.is_workday(date(2031, 1, 4)) is False  # a Saturday
    assert cal.uncovered_years([date(2031, 1, 3), date(2026, 5, 1)]) == [2031]


def test_without_the_package_only_overrides_and_weekends_count() -> None:
    cal = WorkCalendar({date(2026, 10, 1): False}, use_package=False)
    assert cal.is_workday(date(2026, 10, 1)) is False
    assert cal.is_workday(date(2026, 10, 2)) is True  # the package would say holiday


@pytest.mark.parametrize("data, message", [
    ({"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}, "both"),
    ({"holidays": ["not a date"]}, "not a date"),
    ({"holiday": []}, "unknown keys"),
])
def test_a_malformed_override_file_is_refused_with_the_entry_named(data: dict, message: str) -> None:
    with pytest.raises(CalendarDataError) as err:
        parse_overrides(data, "office.yaml")
    assert message in str(err.value) and "office.yaml" in str(err.value)


def test_the_shipped_override_file_loads() -> None:
    assert build_calendar().is_workday(date(2026, 10, 10)) is True
