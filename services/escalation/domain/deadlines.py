"""Deadlines of the case workflow, as pure functions of event timestamps.

The registration rule: a clue must be registered (登记) within 4 hours of being found. The hours
are calendar hours, not office hours: a clue found at 23:00 is due at 03:00 the next day. The
result is expressed in Asia/Shanghai time so that the ISO string a district officer reads carries
the +08:00 offset they think in (China has no daylight saving, so 4 hours is always 4 hours).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fangfei.clock import SHANGHAI

REGISTRATION_WINDOW = timedelta(hours=4)


def register_deadline(found_at: datetime) -> datetime:
    """When the clue found at `found_at` must be registered, in Asia/Shanghai time.

    A naive `found_at` is refused: without an offset the deadline could be 8 hours off."""
    if found_at.tzinfo is None:
        raise ValueError("found_at must carry a timezone offset")
    return (found_at + REGISTRATION_WINDOW).astimezone(SHANGHAI)
