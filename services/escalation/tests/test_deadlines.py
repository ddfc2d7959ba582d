"""The 4-hour registration rule, as a district officer reads the deadline."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from fangfei.clock import SHANGHAI
from services.escalation.domain.deadlines import register_deadline


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
