"""统一社会信用代码 (unified social credit code), GB 32100-2015: validation and normalisation.

Enterprises are identified by this code across streets: a risk enterprise that moves or
reappears under a new name keeps its code, so the code (not the name) is the key. A code whose
check digit is wrong is a typing error or a forged licence, never a key: `parse` refuses it.

Layout (18 characters from a 31-character alphabet without I, O, Z, S, V):
position 1 registration authority, 2 organisation type, 3–8 administrative division (digits),
9–17 organisation code, 18 check character = 31 − (Σ value·weight mod 31), 31 → 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


class InvalidCreditCode(ValueError):
    """The text is not a valid unified social credit code; the message says why, in Chinese."""


def check_character(first17: str) -> str:
    """The check character (position 18) for the first 17 characters."""
    if len(first17) != 17 or any(ch not in _VALUES for ch in first17):
        raise InvalidCreditCode("统一社会信用代码前17位须为规定字符")
    total = sum(_VALUES[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise(text: str) -> str:
    """Upper case without spaces or hyphens: what people type, in the form that is compared."""
    return re.sub(r"[\s-]", "", text).upper()


@dataclass(frozen=True)
class CreditCode:
    code: str

    @property
    def registration_authority(self) -> str:
        return self.code[0]

    @property
    def division(self) -> str:
        """行政区划码 (positions 3–8)."""
        return self.code[2:8]

    def __str__(self) -> str:
        return self.code


def parse(text: str) -> CreditCode:
    """A validated code, or InvalidCreditCode saying what is wrong (length, characters, check)."""
    code = normalise(text)
    if len(code) != 18:
        raise InvalidCreditCode(f"统一社会信用代码应为18位，实际{len(code)}位")
    if not _SHAPE.match(code):
        raise InvalidCreditCode("统一社会信用代码含有不允许的字符（不使用 I、O、Z、S、V，第3–8位须为数字）")
    expected = check_character(code[:17])
    if code[17] != expected:
        raise InvalidCreditCode(f"统一社会信用代码校验位错误（应为 {expected}）")
    return CreditCode(code)


def is_valid(text: str) -> bool:
    try:
        parse(text)
    except InvalidCreditCode:
        return False
    return True
