"""Exports of a ledger or a statistics table: CSV (streamed) and XLSX (a real workbook: Chinese
headers, frozen header row, column widths).

CSV is UTF-8 with a byte-order mark so that Excel opens the Chinese headers correctly; the bytes
depend only on the rows, which is what the rebuild-equals-live tests compare."""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Iterator, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .tables import Column, cell

BOM = "\ufeff"


def csv_chunks(columns: Sequence[Column], rows: Iterable[dict[str, Any]], every: int = 500) -> Iterator[bytes]:
    """CSV bytes in chunks of `every` rows: a large ledger is sent while it is being read."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write(BOM)
    writer.writerow([c.header for c in columns])
    n = 0
    for row in rows:
        writer.writerow([cell(row.get(c.key)) for c in columns])
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
        ws.append([cell(row.get(c.key)) for c in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_name(title: str) -> str:
    """Excel refuses sheet names over 31 characters and some punctuation."""
    for ch in "[]:*?/\\":
        title = title.replace(ch, "")
    return title[:31] or "Sheet1"
