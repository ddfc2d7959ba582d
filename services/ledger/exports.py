"""Exports of a ledger or a statistics table: CSV (streamed) and XLSX (a real workbook: Chinese
headers, frozen header row, column widths).

CSV is UTF-8 with a byte-order mark so that Excel opens the Chinese headers correctly; the bytes
depend only on the rows, which is what the rebuild-equals-live tests compare.

Rows keep their instants as stored (UTC, `…Z`: one form that sorts as text and rebuilds
byte-identical); what people and scripts are given is Beijing time: a cell reads `2026-03-14 09:30`,
and the JSON answers carry ISO 8601 with the `+08:00` offset (`local_json`)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any, Iterable, Iterator, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fangfei.clock import SHANGHAI, parse_iso

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
