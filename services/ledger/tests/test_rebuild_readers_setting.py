"""FANGFEI_LEDGER_REBUILD_READERS: how many replay readers a rebuild worker starts (README)."""

from __future__ import annotations

import pytest

from services.ledger.rebuild_worker import READERS, READERS_ENV, readers_setting


def test_unset_or_empty_means_the_default() -> None:
    assert readers_setting({}) == READERS == 2
    assert readers_setting({READERS_ENV: " "}) == READERS


@pytest.mark.parametrize("raw,expected", [("1", 1), ("4", 4), ("16", 16)])
def test_a_whole_number_from_1_to_16_is_taken(raw: str, expected: int) -> None:
    assert readers_setting({READERS_ENV: raw}) == expected


@pytest.mark.parametrize("raw", ["0", "17", "-1", "2.5", "two", "1e2"])
def test_anything_else_is_refused_with_the_setting_named(raw: str) -> None:
    with pytest.raises(ValueError) as refused:
        readers_setting({READERS_ENV: raw})
    assert READERS_ENV in str(refused.value) and "1 to 16" in str(refused.value)
