"""Reading one spreadsheet cell: ids, names, codes typed as codes or as the Chinese labels a clerk
sees, instants with their offset, phones, sector lists. Every problem is a `CellError` whose message
names the column and says what is expected, in Chinese."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Callable, Mapping, TypeVar

from fangfei.clock import SHANGHAI, parse_iso
from fangfei.events.fields import ID_PATTERN
from fangfei.vocab import GRID_LEVELS, INDUSTRY_SECTORS

T = TypeVar("T")
Parser = Callable[[str, str], T]

_ID = re.compile(ID_PATTERN)
# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@")
_LIST_SEPARATORS = re.compile(r"[、，,；;/\s]+")
YES, NO = "是", "否"


class CellError(ValueError):
    """One cell (or combination of cells) of a row is wrong; the message is shown to the user."""


def choices(mapping: Mapping[str, str]) -> dict[str, str]:
    """Codes and their Chinese labels both accepted, so a clerk can type what the screen shows."""
    return {**{k: k for k in mapping}, **{v: k for k, v in mapping.items()}}


def ident(column: str, value: str) -> str:
    if not _ID.match(value):
        raise CellError(f"{column}「{value}」无效：只能用字母、数字和 _.:-，以字母或数字开头，至多 64 个字符")
    return value


def name(max_len: int) -> Parser[str]:
    def parse(column: str, value: str) -> str:
        if len(value) > max_len:
            raise CellError(f"{column}过长：至多 {max_len} 个字符")
        if value.startswith(_FORMULA_START):
            raise CellError(f"{column}不能以 = + - @ 开头（表格程序会把它当作公式）")
        return value

    return parse


def code(options: Mapping[str, str]) -> Parser[str]:
    labels = "、".join(k for k in options if not k.isascii())

    def parse(column: str, value: str) -> str:
        if value not in options:
            raise CellError(f"{column}「{value}」无效：应为 {labels} 之一")
        return options[value]

    return parse


_LEVELS = {
    **{str(n): n for n in GRID_LEVELS},
    **{label: n for n, label in GRID_LEVELS.items()},
    **{label.removesuffix("网格"): n for n, label in GRID_LEVELS.items()},
}


def level(column: str, value: str) -> int:
    if value not in _LEVELS:
        raise CellError(f"{column}「{value}」无效：应为 1、2 或 3")
    return _LEVELS[value]


def instant(column: str, value: str) -> datetime:
    try:
        return parse_iso(value)
    except ValueError:
        raise CellError(f"{column}「{value}」无效：须为带时区的时间，如 2025-01-01T00:00:00+08:00") from None


PHONE_RULE = "须为手机号（11 位，13–19 开头）、带区号的固定电话（如 0551-12345678，分机写在后面）或 400/800 服务电话"
_EXTENSION = re.compile(r"^(.*?)\s*(?:转|分机|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
_GROUPS = re.compile(r"[\s\-–—()（）]+")


def normalize_phone(value: str) -> str:
    """A Chinese mobile, landline (area code required, extension allowed) or 400/800 number, written
    the one way the roster stores and exports it: 139-0000-0001, 0551-12345678, 010-1234567-8001,
    400-123-4567. Spaces, hyphens, brackets around the area code and a +86 prefix are accepted.
    Raises ValueError for anything that is no such number."""
    text = unicodedata.normalize("NFKC", value).strip()
    extension = ""
    if m := _EXTENSION.match(text):
        text, extension = m.group(1), m.group(2)
    international = text.startswith(("+86", "0086"))
    text = text.removeprefix("+86").removeprefix("0086") if international else text
    groups = [g for g in _GROUPS.split(text) if g]
    if not groups or not all(g.isdigit() for g in groups):
        raise ValueError(value)
    digits = "".join(groups)
    if international and not digits.startswith("1"):
        digits, groups = "0" + digits, ["0" + groups[0], *groups[1:]]
    if re.fullmatch(r"1[3-9]\d{9}", digits) and not extension:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if re.fullmatch(r"[48]00\d{7}", digits) and not extension:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    if not digits.startswith("0"):
        raise ValueError(value)
    if len(groups) == 3 and not extension and len(groups[1]) >= 7:  # 0551-12345678-123: an extension
        groups, extension = groups[:2], groups[2]
    if len(groups) >= 2:
        area, number = groups[0], "".join(groups[1:])
    else:  # 010/02x have a two-digit area code after the 0, the rest three
        cut = 3 if digits[1] in "12" else 4
        area, number = digits[:cut], digits[cut:]
    if not (re.fullmatch(r"0(?:10|2\d|[3-9]\d\d)", area) and re.fullmatch(r"[1-9]\d{6,7}", number)):
        raise ValueError(value)
    return f"{area}-{number}" + (f"-{extension}" if extension else "")


def phone(column: str, value: str) -> str:
    try:
        return normalize_phone(value)
    except ValueError:
        raise CellError(f"{column}「{value}」无效：{PHONE_RULE}") from None


_SECTORS = choices(INDUSTRY_SECTORS)
_SECTOR_ORDER = {code_: i for i, code_ in enumerate(INDUSTRY_SECTORS)}


def sectors(column: str, value: str) -> tuple[str, ...]:
    """`养老、房地产` (labels or codes, separated by 、 , ; or spaces) → codes in catalogue order."""
    parts = [p for p in _LIST_SEPARATORS.split(value) if p]
    unknown = [p for p in parts if p not in _SECTORS]
    if unknown:
        raise CellError(f"{column}中「{'、'.join(unknown)}」不是行业目录中的行业（{'、'.join(INDUSTRY_SECTORS.values())}）")
    return tuple(sorted({_SECTORS[p] for p in parts}, key=_SECTOR_ORDER.__getitem__))


def yes_no(column: str, value: str) -> bool:
    if value not in (YES, NO):
        raise CellError(f"{column}「{value}」无效：填「是」或留空")
    return value == YES


def serial(column: str, value: str) -> int:
    if not value.isdigit():
        raise CellError(f"{column}「{value}」无效：须为正整数")
    return int(value)


def show_instant(at: datetime) -> str:
    """The form an export writes: Beijing time with its offset, to the second."""
    return at.astimezone(SHANGHAI).isoformat()


def show_sectors(codes: tuple[str, ...]) -> str:
    return "、".join(INDUSTRY_SECTORS.get(c, c) for c in codes)
