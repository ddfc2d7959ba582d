"""统一社会信用代码 validation (fangfei.credit_code, GB 32100-2015)."""

from __future__ import annotations

import pytest

from fangfei.credit_code import InvalidCreditCode, check_character, is_valid, parse

EXAMPLE = "91350100M000100Y43"  # the example code printed in GB 32100-2015


def test_the_standards_example_is_valid_and_normalised() -> None:
    assert parse(" 91350100m000100y43 ").code == EXAMPLE
    assert parse("91350100-M000100Y43").division == "350100"
    assert check_character(EXAMPLE[:17]) == "3"


@pytest.mark.parametrize("text, why", [
    ("91350100M000100Y44", "校验位错误（应为 3）"),
    ("91350100M000100Y4", "应为18位"),
    ("91350100M000100YO3", "不允许的字符"),  # the letter O is not used
    ("9135A100M000100Y43", "不允许的字符"),  # positions 3–8 are the division code: digits
])
def test_a_wrong_code_says_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(InvalidCreditCode) as err:
        parse(text)
    assert why in str(err.value)
    assert not is_valid(text)


def test_every_single_character_typo_is_caught() -> None:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for pos in range(18):
        for ch in alphabet:
            if ch == EXAMPLE[pos] or (2 <= pos < 8 and not ch.isdigit()):
                continue
            assert not is_valid(EXAMPLE[:pos] + ch + EXAMPLE[pos + 1:]), (pos, ch)


def test_a_check_character_of_31_is_written_0() -> None:
    # find a body whose weighted sum is a multiple of 31: its check character is 0
    for n in range(10000):
        body = f"9134010200{n:07d}"
        if check_character(body) == "0":
            assert is_valid(body + "0")
            return
    raise AssertionError("no body with check character 0 found")
