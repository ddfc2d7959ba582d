"""`tables.utc` keeps a text already in the stored form (UTC, milliseconds, Z) as it is, after
checking it parses: the result must be exactly what the full conversion gives, for every input."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from fangfei.clock import parse_iso, to_iso
from services.ledger import tables

OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
INSTANTS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2199, 12, 31), timezones=OFFSETS)


def full(text: str) -> str:
    return to_iso(parse_iso(text))


@given(INSTANTS)
def test_the_stored_form_and_every_offset_give_the_full_conversion(instant: datetime) -> None:
    for text in (to_iso(instant), instant.isoformat(), instant.isoformat(timespec="milliseconds")):
        tables.utc.cache_clear()
        assert tables.utc(text) == full(text)


@pytest.mark.parametrize("text", ["2025-06-31T10:00:00.000Z", "2025-02-29T10:00:00.000Z",
                                  "2025-01-01T25:00:00.000Z", "2025-01-01T10:61:00.000Z"])
def test_a_text_in_the_stored_form_that_is_no_instant_is_refused(text: str) -> None:
    tables.utc.cache_clear()
    with pytest.raises(ValueError):
        tables.utc(text)
