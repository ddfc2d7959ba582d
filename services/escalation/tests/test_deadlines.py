"""Deadline rules as a district officer reads them: the 4-hour registration rule and the report
cadences (Friday 12:00, the 20th, the 15th and 30th)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from fangfei.clock import SHANGHAI
from services.escalation.domain.deadlines import (
    cadence_dues, monthly_due, next_due, register_deadline, sweep_due, weekly_due, weekly_period,
)


def test_deadline_is_four_hours_after_the_clue_was_found_in_shanghai_time() -> None:
    found = datetime(2026, 3, 14, 9, 30, tzinfo=SHANGHAI)
    assert register_deadline(found).isoformat() == "2026-03-14T13:30:00+08:00"


def test_clue_found_at_23_00_is_due_at_03_00_the_next_day() -> None:
    found = datetime(2026, 3, 14, 23, 0, tzinfo=SHANGHAI)
    assert register_deadline(found).isoformat() == "2026-03-15T03:00:00+08:00"


def test_a_clue_reported_in_utc_gets_a_deadline_with_the_shanghai_offset() -> None:
    found = datetime(2026, 3, 31, 20, 15, tzinfo=timezone.utc)  # 2026-04-01 04:15 in Shanghai
    assert register_deadline(found).isoformat() == "2026-04-01T08:15:00+08:00"


def test_a_time_without_offset_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError):
        register_deadline(datetime(2026, 3, 14, 9, 30))


# -- report cadences (seed 000 §四(三), seed 003 §三, seed 004 §四) --------------------------------


def sh(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("after, due, period", [
    ("2026-03-16T08:00:00+08:00", "2026-03-20T12:00:00+08:00", "2026-W12"),  # Monday → that Friday noon
    ("2026-03-20T11:59:59+08:00", "2026-03-20T12:00:00+08:00", "2026-W12"),
    ("2026-03-20T12:00:00+08:00", "2026-03-27T12:00:00+08:00", "2026-W13"),  # past noon: next week's
    ("2026-03-21T09:00:00+08:00", "2026-03-27T12:00:00+08:00", "2026-W13"),  # Saturday, across the boundary
    ("2025-12-31T10:00:00+08:00", "2026-01-02T12:00:00+08:00", "2026-W01"),  # across the year boundary
    ("2026-03-20T04:30:00Z", "2026-03-27T12:00:00+08:00", "2026-W13"),  # 12:30 in Shanghai, given in UTC
])
def test_weekly_summary_is_due_friday_noon_of_its_week(after: str, due: str, period: str) -> None:
    d = next_due("weekly", sh(after))
    assert (d.due_at.isoformat(), d.period) == (due, period)


def test_a_week_runs_monday_to_sunday_in_shanghai_time() -> None:
    assert weekly_period(sh("2026-03-22T23:59:00+08:00")) == "2026-W12"  # Sunday evening
    assert weekly_period(sh("2026-03-22T16:30:00Z")) == "2026-W13"  # Monday 00:30 in Shanghai
    assert weekly_due(2026, 12).isoformat() == "2026-03-20T12:00:00+08:00"


def test_monthly_progress_is_due_by_the_20th() -> None:
    assert monthly_due(2026, 3).isoformat() == "2026-03-20T23:59:59+08:00"
    assert next_due("monthly", sh("2026-03-20T23:59:59+08:00")).due_at.isoformat() == "2026-04-20T23:59:59+08:00"
    assert next_due("monthly", sh("2026-12-25T00:00:00+08:00")).period == "2027-01"


@pytest.mark.parametrize("year, month, second", [
    (2026, 2, "2026-02-28T23:59:59+08:00"),  # 28-day February: the 30th is the month's last day
    (2028, 2, "2028-02-29T23:59:59+08:00"),  # leap year
    (2026, 4, "2026-04-30T23:59:59+08:00"),
    (2026, 3, "2026-03-30T23:59:59+08:00"),  # a 31-day month: still the 30th
])
def test_sweep_summaries_are_due_on_the_15th_and_30th(year: int, month: int, second: str) -> None:
    assert sweep_due(year, month, 1).isoformat() == f"{year}-{month:02d}-15T23:59:59+08:00"
    assert sweep_due(year, month, 2).isoformat() == second


def test_february_has_two_sweeps_and_march_starts_afresh() -> None:
    dues = cadence_dues("sweep", sh("2026-02-01T00:00:00+08:00"), sh("2026-03-16T00:00:00+08:00"))
    assert [(d.period, d.due_at.isoformat()) for d in dues] == [
        ("2026-02.15", "2026-02-15T23:59:59+08:00"),
        ("2026-02.30", "2026-02-28T23:59:59+08:00"),
        ("2026-03.15", "2026-03-15T23:59:59+08:00"),
    ]


def test_cadence_window_is_open_at_the_start_and_closed_at_the_end() -> None:
    friday = sh("2026-03-20T12:00:00+08:00")
    assert [d.period for d in cadence_dues("weekly", friday, friday)] == []
    assert [d.period for d in cadence_dues("weekly", friday - timedelta(seconds=1), friday)] == ["2026-W12"]


