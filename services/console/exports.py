"""A ledger listing as the file an office hands in: XLSX (Chinese headers, frozen header row,
column widths that fit) or CSV (UTF-8 with BOM, so Excel shows the Chinese).

Built from the ledger service's JSON rows (the person's own scope, through their token); a cell
that starts like a formula (= + - @) is written as text, so an export cannot run anything."""

from __future__ import annotations

import csv
import io
from typing import Any, Mapping, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .pages import _cell

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def _text(key: str, value: Any) -> str:
    out = _cell(key, value)
    out = "" if out == "—" else out
    return "'" + out if out[:1] in ("=", "+", "-", "@") else out


def table_of(listing: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    columns: Sequence[Mapping[str, str]] = listing.get("columns", [])
    header = [c["label"] for c in columns]
    rows = [[_text(c["key"], row.get(c["key"])) for c in columns] for row in listing.get("rows", [])]
    return header, rows


def to_csv(listing: Mapping[str, Any]) -> bytes:
    header, rows = table_of(listing)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(listing: Mapping[str, Any], title: str) -> bytes:
    header, rows = table_of(listing)
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    ws.freeze_panes = "A2"
    for i, label in enumerate(header, start=1):
        longest = max([len(label)] + [len(r[i - 1]) for r in rows[:500]])
        ws.column_dimensions[get_column_letter(i)].width = min(60, max(8, longest * 2 + 2))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
