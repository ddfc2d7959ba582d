"""The escalation service's clock, with an optional offset for simulated time.

`FANGFEI_CLOCK_OFFSET_S=<seconds>` (may be negative or fractional) makes this service's
commands and deadline scanner run that far ahead of the real clock — e.g. 90000 to see the
next day's level-2 review breach now. For tests and demonstrations only: store timestamps
(`recorded_at`) stay real; every instant the workflow uses (`at`, deadlines) is from this clock.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Mapping

OFFSET_ENV = "FANGFEI_CLOCK_OFFSET_S"


class OffsetClock:
    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset


def clock_from_env(env: Mapping[str, str] | None = None) -> OffsetClock:
    env = os.environ if env is None else env
    raw = env.get(OFFSET_ENV, "") or "0"
    try:
        seconds = float(raw)
    except ValueError as exc:
        raise ValueError(f"{OFFSET_ENV} must be a number of seconds, got {raw!r}") from exc
    return OffsetClock(timedelta(seconds=seconds))
