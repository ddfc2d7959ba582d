"""The escalation service's clock, with simulated time for tests and demonstrations.

Two settings, never both (a process refuses to start with both set):

- `FANGFEI_CLOCK_START=<ISO instant with offset>` makes the clock read that instant when the
  process starts and run on at real speed from there: an absolute simulated time that does not
  depend on today's date or weekday. A test that starts the stack with it (from the first start,
  so the first scan cannot catch up real-date deadlines) and restarts the service with a later
  instant drives the whole scenario in simulated time.
- `FANGFEI_CLOCK_OFFSET_S=<seconds>` (may be negative or fractional) runs the clock that far ahead
  of the real clock — e.g. 90000 to see the next day's level-2 review breach now.

For tests and demonstrations only: store timestamps (`recorded_at`) stay real; every instant the
workflow uses (`at`, deadlines, the scanner's `now`) is from this clock. `/health` shows the
instant the clock reads (`clock.now`) and whether it is simulated.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

OFFSET_ENV = "FANGFEI_CLOCK_OFFSET_S"
START_ENV = "FANGFEI_CLOCK_START"


class OffsetClock:
    """The real clock plus a fixed offset (zero: the real clock)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    @property
    def simulated(self) -> bool:
        return bool(self.offset)

    def describe(self) -> dict[str, Any]:
        return {"now": self.now().isoformat(), "simulated": self.simulated,
                "offset_s": self.offset.total_seconds()}


class StartedClock:
    """Reads `start` when created and runs at real speed from there (a monotonic timer, so a
    change of the machine's wall clock does not move simulated time)."""

    def __init__(self, start: datetime, monotonic: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError(f"{START_ENV} must carry its UTC offset, got {start.isoformat()!r}")
        self.start = start.astimezone(timezone.utc)
        self._monotonic = monotonic
        self._t0 = monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self._monotonic() - self._t0)

    simulated = True

    def describe(self) -> dict[str, Any]:
        return {"now": self.now().isoformat(), "simulated": True, "start": self.start.isoformat()}


def clock_from_env(env: Mapping[str, str] | None = None) -> OffsetClock | StartedClock:
    env = os.environ if env is None else env
    raw_start = (env.get(START_ENV, "") or "").strip()
    raw = (env.get(OFFSET_ENV, "") or "").strip()
    if raw_start:
        if raw and float_or_none(raw) != 0.0:
            raise ValueError(f"set {START_ENV} or {OFFSET_ENV}, not both")
        try:
            start = datetime.fromisoformat(raw_start)
        except ValueError as exc:
            raise ValueError(f"{START_ENV} must be an ISO 8601 instant with offset, got {raw_start!r}") from exc
        return StartedClock(start)
    seconds = float_or_none(raw or "0")
    if seconds is None:
        raise ValueError(f"{OFFSET_ENV} must be a number of seconds, got {raw!r}")
    return OffsetClock(timedelta(seconds=seconds))


def float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
