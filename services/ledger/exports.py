"""Exports of a ledger or a statistics table: CSV (streamed) and XLSX (a real workbook: Chinese
headers, frozen header row, column widths).

CSV is UTF-8 with a byte-order mark so that Excel opens the Chinese headers correctly; the bytes
depend only on the rows, which is what the rebuild-equals-live tests compare.

Rows keep their instants as stored (UTC, `…Z`: one form that sorts as text and rebuilds
byte-identical); what people and scripts are given is Beijing time: a cell reads `2026-03-14 09:30`,
and the JSON answers carry ISO 8601 with the `+08:00` offset (`local_json`).

People read these files, so a cell never shows a raw id (issue 13): the 街道, 社区, 责任人 (and every
other street, community, grid, unit or person) column shows the name the roster gave
(`export_rows`, names.py says which name: a person's at the row's time, a place's current one),
or a Chinese placeholder such as （社区名称未知）. The JSON answers keep the ids and carry the names
beside them (`json_rows`: `assignee_person_id` → `assignee_person_name`). Names come from the
ledger's own read model of roster events, so live and rebuilt exports stay byte-identical."""

from __future__ import annotations

import csv
import io
import re
from typing import Any, Callable, Iterable, Iterator, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fangfei.clock import SHANGHAI, parse_iso, to_iso

from .labels import event_type_label
from .names import Names, instant_of, kind_of, name_key
from .tables import Column, cell

BOM = "\ufeff"
# An instant as the ledgers store it (or with any offset); a bare date is a day, not an instant.
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$")


def _local(text: str) -> Any:
    try:
        return parse_iso(text).astimezone(SHANGHAI)
    except ValueError:
        return None


def local_json(value: Any) -> Any:
    """`value` with every instant in it (any depth) as ISO 8601 in Beijing time, `…+08:00`."""
    if isinstance(value, str):
        local = _local(value) if _INSTANT.match(value) else None
        return local.isoformat(timespec="milliseconds") if local is not None else value
    if isinstance(value, dict):
        return {k: local_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [local_json(v) for v in value]
    return value


def shown(value: Any) -> Any:
    """A row's value as a cell a person reads: an instant in Beijing time (`2026-03-14 09:30`)."""
    if isinstance(value, str) and _INSTANT.match(value):
        local = _local(value)
        if local is not None:
            return local.strftime("%Y-%m-%d %H:%M")
    return cell(value)


def csv_chunks(columns: Sequence[Column], rows: Iterable[dict[str, Any]], every: int = 500) -> Iterator[bytes]:
    """CSV bytes in chunks of `every` rows: a large ledger is sent while it is being read."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write(BOM)
    writer.writerow([c.header for c in columns])
    n = 0
    for row in rows:
        writer.writerow([shown(row.get(c.key)) for c in columns])
        n += 1
        if n % every == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def csv_bytes(columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(csv_chunks(columns, rows))


def xlsx_bytes(title: str, columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_name(title))
    ws.freeze_panes = "A2"
    for i, c in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = max(c.width, 2 * len(c.header) + 2)
    from openpyxl.cell import WriteOnlyCell

    header = []
    for c in columns:
        hc = WriteOnlyCell(ws, value=c.header)
        hc.font = Font(bold=True)
        header.append(hc)
    ws.append(header)
    for row in rows:
        ws.append([shown(row.get(c.key)) for c in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_name(title: str) -> str:
    """Excel refuses sheet names over 31 characters and some punctuation."""
    for ch in "[]:*?/\\":
        title = title.replace(ch, "")
    return title[:31] or "Sheet1"


# The row field a person's name is taken at, per ledger and statistics table key (the first one
# the row has); a key not listed (the risk-enterprise list, counts per community or per person)
# shows current names, or those as of the query's `as_of`.
ROW_TIMES: dict[str, tuple[str, ...]] = {
    "supervision": ("visited_on",),
    "clue-verification": ("found_at",),
    "internet-finance": ("found_on",),
    "publicity": ("held_on",),
    "ad-cleanup": ("found_on",),
    "case-progress": ("found_at", "filed_on"),
    "asset-disposal": ("reported_on",),
    "petition": ("received_on",),
    "emergency": ("period_date",),
    "cross-province": ("filed_on",),
    "assessment-facts": ("at",),
}


def _row_at(row: dict[str, Any], times: Sequence[str], default: str | None) -> str | None:
    for key in times:
        at = instant_of(row.get(key))
        if at is not None:
            return at
    return default


def _scope(query: dict[str, Any]) -> tuple[str, str | None]:
    as_of = query.get("as_of")
    at = instant_of(as_of if isinstance(as_of, str) or as_of is None else to_iso(as_of))
    return str(query.get("street_id") or ""), at


# Coded columns a statistics row carries as codes, printed in Chinese (JSON adds `<key>_label`).
CODED: dict[str, Callable[[str], str]] = {"event_type": event_type_label}


def _labels(row: dict[str, Any], keys: Iterable[str], cache: dict[tuple[str, str], str]) -> dict[str, Any]:
    out = {}
    for k in keys:
        value = row.get(k)
        if isinstance(value, str) and value:
            if (k, value) not in cache:
                cache[(k, value)] = CODED[k](value)
            out[k] = cache[(k, value)]
    return out


def export_rows(db: Any, key: str, columns: Sequence[Column], rows: Iterable[dict[str, Any]],
                query: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """`rows` as the export of ledger or table `key` prints them: every id column holding its name
    (or the placeholder), every coded column its Chinese label. The rows themselves are not changed."""
    names = Names.load(db)
    street, default_at = _scope(query or {})
    times = ROW_TIMES.get(key, ())
    named = [c.key for c in columns if kind_of(c.key) is not None]
    coded = [c.key for c in columns if c.key in CODED]
    cache: dict[tuple[str, str], str] = {}
    out = []
    for row in rows:
        at = _row_at(row, times, default_at)
        where = str(row.get("street_id") or street)
        out.append({**row, **{k: names.shown(k, row.get(k), where, at) for k in named},
                    **_labels(row, coded, cache)})
    return out


def json_rows(db: Any, key: str, rows: Iterable[dict[str, Any]],
              query: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """`rows` with a name beside every id they carry (`community_id` → `community_name`, …) and a
    label beside every coded field (`event_type_label`), additive: ids and every field the row
    already has (a statistics row's community_name) stay."""
    names = Names.load(db)
    street, default_at = _scope(query or {})
    times = ROW_TIMES.get(key, ())
    cache: dict[tuple[str, str], str] = {}
    out = []
    for row in rows:
        at = _row_at(row, times, default_at)
        where = str(row.get("street_id") or street)
        extra = {name_key(k): names.shown(k, v, where, at) for k, v in row.items()
                 if kind_of(k) is not None and name_key(k) not in row}
        coded = [k for k in CODED if f"{k}_label" not in row]
        labels = {f"{k}_label": v for k, v in _labels(row, coded, cache).items()}
        out.append({**row, **extra, **labels})
    return out
