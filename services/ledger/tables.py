"""What every ledger and statistics table shares: columns with Chinese headers, how a value is
written into a cell, and the street/community/period/status filter of a listing.

Why one place: the HTTP listing, the CSV and the XLSX export all print the same columns in the
same order with the same words, so a number never reads differently on screen and on paper."""

from __future__ import annotations

import functools
import re

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Mapping, Sequence

from fangfei.clock import SHANGHAI, parse_iso, to_iso


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # printed on screen and as the export's header row
    width: int = 14  # XLSX column width, in characters (a CJK character counts about 2)


def columns_json(columns: Iterable[Column]) -> list[dict[str, str]]:
    return [{"key": c.key, "label": c.header} for c in columns]


def cell(value: Any) -> Any:
    """A value as a cell: empty for none, 是/否 for booleans, lists joined with 、; numbers stay
    numbers (so a spreadsheet can sum them), everything else is text. Text a person typed that a
    spreadsheet would run as a formula (`=HYPERLINK(…)`, `+…`, `-…`, `@…`) gets a leading `'`, so
    an office opening an export never runs what a reporter wrote (CSV/formula injection)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        value = "、".join(str(v) for v in value)
    if isinstance(value, str):
        return "'" + value if value[:1] in ("=", "+", "-", "@") else value
    if isinstance(value, (int, float)):
        return value
    return cell(str(value))


# The stored form itself, which every producer writes (clock.to_iso): such a text is its own UTC form
# once it parses. Converting it anyway (parse, astimezone, isoformat, replace) cost ~2 us, 4 % of a
# replay reader's time.
_STORED_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z").fullmatch
_fromisoformat = datetime.fromisoformat


@functools.lru_cache(maxsize=1 << 16)
def utc(text: str) -> str:
    """Instants are stored in one form (UTC, ms, Z) so they sort as strings across offsets.

    Remembered: one event's instant is converted by several projectors (a clue's discovery time
    by its ledger row, its case row and its assessment fact), and a rebuild converts millions."""
    if _STORED_FORM(text) is not None:
        _fromisoformat(text[:-1])  # still refused if it is no real instant (a 31 June, a 25th hour)
        return text
    return to_iso(parse_iso(text))


@functools.lru_cache(maxsize=1 << 16)
def local_date(instant_text: str) -> str:
    """The calendar day (Asia/Shanghai) of an instant: what an office means by 'on 14 March'."""
    return parse_iso(instant_text).astimezone(SHANGHAI).date().isoformat()


def week_of(day: str) -> str:
    """ISO week of a YYYY-MM-DD day, e.g. 2026-W11 (a 周报 covers Monday to Sunday)."""
    y, w, _ = date.fromisoformat(day).isocalendar()
    return f"{y}-W{w:02d}"


def month_of(day: str) -> str:
    return day[:7]


def scope_filter(query: Mapping[str, Any], date_field: str | None = None) -> dict[str, Any]:
    """The Mongo filter of a listing's street, community and period (dates inclusive)."""
    flt: dict[str, Any] = {}
    if query.get("street_id"):
        flt["street_id"] = query["street_id"]
    if query.get("community_id"):
        flt["community_id"] = query["community_id"]
    if date_field:
        span: dict[str, str] = {}
        if query.get("period_from"):
            span["$gte"] = _day(query["period_from"])
        if query.get("period_to"):
            span["$lte"] = _day(query["period_to"])
        if span:
            flt[date_field] = span
    return flt


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def fetch(collection: Any, flt: Mapping[str, Any], sort: Sequence[tuple[str, int]] = (),
          query: Mapping[str, Any] | None = None, exclude: Sequence[str] = ("_applied",)) -> list[dict[str, Any]]:
    """The documents of `collection` matching `flt`, sorted, one page of them when `query` has a
    `page_size` (else all), without the `exclude`d fields: what every listing, export and
    statistics table reads.

    Why not just `list(find(...))`: litemongo's cursor (its vendored mongomock) copies the rest of
    its result list on every next(), so reading n rows that way costs n²/2 copies (a 30,000-row
    export took minutes). Its cursor computes the whole result list first anyway; we take that
    list in one piece, with the very method next() reads it from. Its aggregate() is linear too,
    but re-checks and re-copies every document twice (3-4 times slower). Any other driver's
    cursor (pymongo on MongoDB) is simply iterated."""
    cursor = collection.find(dict(flt), {name: 0 for name in exclude} or None)
    if sort:
        cursor = cursor.sort(list(sort))
    if query is not None and query.get("page_size") is not None:
        cursor = cursor.skip((query.get("page", 1) - 1) * query["page_size"]).limit(query["page_size"])
    whole = getattr(cursor, "_compute_results", None)
    if whole is not None:
        return list(whole(with_limit_and_skip=True))
    return list(cursor)
