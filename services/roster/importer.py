"""Read a roster file (CSV or XLSX) into checked rows; any bad row rejects the whole file.

The files are what a street office keeps in Excel, so headers are Chinese, columns may come in any
order, trailing empty cells may be missing, and CSV may be UTF-8 (with or without BOM) or GB18030
(what Excel on Chinese Windows saves). An XLSX workbook may hold several lists, one per sheet; each
sheet's list is told by its header (lists.detect). Every problem is reported with its spreadsheet
row number (the header is row 1), and its sheet in a workbook, so the clerk can fix them all in one
pass. See README.md for the lists and their columns.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Sequence

from fangfei.roster_view import RosterView
from fangfei.vocab import ROSTER_LISTS

from .cells import CellError
from .checks import check_consistency
from .facts import ImportRejected, OutOfStreet, RosterRow, RowError
from .lists import FORMATS, ListFormat, detect

CSV = "csv"
XLSX = "xlsx"
MAX_ROWS = 50_000  # a district's roster is a few thousand rows; beyond this it is not a roster
MAX_COLUMNS = 64
# A 2 MB upload may unpack to far more; refuse workbooks that would (a "zip bomb") before parsing.
MAX_XLSX_UNPACKED = 64 * 1024 * 1024


@dataclass(frozen=True)
class Sheet:
    name: str  # "" for CSV
    records: list[tuple[int, list[str]]]  # (spreadsheet row number, cells)


def parse_file(
    data: bytes, fmt: str, known: RosterView | None = None, *, list_kind: str | None = None,
    street_id: str | None = None, own_street: str | None = None,
) -> list[RosterRow]:
    """Parse and check a whole file; raise ImportRejected listing every bad row.

    `known` is the roster recorded so far: rows may refer to what is already recorded (a later
    import of one community) and may not move anything recorded to another street. `list_kind`
    forces the list (else told by the header); `street_id` refuses rows of any other street.
    `own_street` is the one street the caller may change (a street office's token): rows of any
    other are refused with OutOfStreet before anything is checked against the roster, and the
    reasons never name what another street has recorded."""
    sheets = read_csv(data) if fmt == CSV else read_xlsx(data)
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    for sheet in sheets:
        found, problems = _parse_sheet(sheet, list_kind)
        rows += found
        errors += problems
    if not rows and not errors:
        raise ImportRejected("文件中没有数据行", [RowError(1, "表头之后没有数据行")])
    if own_street is not None:
        foreign = [RowError(r.row, f"本行不属于本街道（{own_street}）：只能导入本街道的名册", r.sheet)
                   for r in rows if r.street_id != own_street]
        if foreign:
            raise OutOfStreet(f"文件中有 {len(foreign)} 行属于其他街道，无权导入，未导入任何数据", foreign)
    if street_id is not None:
        errors += [
            RowError(r.row, f"本行属于街道 {r.street_id}，不是本次导入的街道 {street_id}", r.sheet)
            for r in rows if r.street_id != street_id
        ]
    errors.extend(check_consistency(rows, known or RosterView(), own_street))
    if errors:
        bad = len({(e.sheet, e.row) for e in errors})
        raise ImportRejected(f"名册有 {bad} 行有误，未导入任何数据", _merge(errors))
    return rows


def parse_csv(data: bytes, known: RosterView | None = None) -> list[RosterRow]:
    return parse_file(data, CSV, known)


def _parse_sheet(sheet: Sheet, list_kind: str | None) -> tuple[list[RosterRow], list[RowError]]:
    if not sheet.records:
        if sheet.name:
            return [], []  # an empty sheet in a workbook (Excel's default "Sheet2") is harmless
        raise ImportRejected("文件为空：第 1 行须为表头", [RowError(1, "缺少表头")])
    header_row, header = sheet.records[0]
    names = [h.strip() for h in header]
    fmt = FORMATS[list_kind] if list_kind else detect(names)
    if fmt is None:
        lists = "、".join(ROSTER_LISTS.values())
        return [], [RowError(header_row, f"无法识别的名单：表头须为{lists}之一的表头", sheet.name)]
    problem = _header_problem(fmt, names)
    if problem:
        return [], [RowError(header_row, problem, sheet.name)]
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    for number, cells in sheet.records[1:]:
        if not any(c.strip() for c in cells):
            continue  # blank spreadsheet rows are harmless
        try:
            rows.append(fmt.parse(number, _cells_by_column(names, cells), sheet.name))
        except CellError as exc:
            errors.append(RowError(number, str(exc), sheet.name))
    return rows, errors


def _header_problem(fmt: ListFormat, names: Sequence[str]) -> str:
    problems: list[str] = []
    missing = [c for c in fmt.columns if c in fmt.required and c not in names]
    if missing:
        problems.append("缺少列：" + "、".join(missing))
    unknown = [n for n in names if n and n not in fmt.columns]
    if unknown:
        problems.append("未知列：" + "、".join(unknown))
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        problems.append("列重复：" + "、".join(repeated))
    return "；".join(problems)


def _cells_by_column(columns: Sequence[str], cells: Sequence[str]) -> dict[str, str]:
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns):]):
        raise CellError(f"本行有 {len(cells)} 列，多于表头的 {len(columns)} 列")
    padded = list(cells) + [""] * (len(columns) - len(cells))
    return {name: value.strip() for name, value in zip(columns, padded) if name}


def _merge(errors: list[RowError]) -> list[RowError]:
    """One entry per row: a row with several problems gets them joined, in the order found."""
    by_row: dict[tuple[str, int], list[str]] = {}
    for err in errors:
        by_row.setdefault((err.sheet, err.row), []).append(err.reason)
    return [RowError(row, "；".join(reasons), sheet) for (sheet, row), reasons in sorted(by_row.items())]


# -- CSV -----------------------------------------------------------------------------------------
def read_csv(data: bytes) -> list[Sheet]:
    text = _decode(data)
    try:
        records = list(enumerate(csv.reader(io.StringIO(text, newline="")), start=1))
    except csv.Error as exc:
        raise ImportRejected("CSV 格式有误", [RowError(0, f"CSV 格式有误：{exc}")]) from exc
    filled = [r for _, r in records if any(c.strip() for c in r)]
    _check_size(len(filled), max((len(r) for r in filled), default=0))
    return [Sheet("", records)]


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRejected("文件编码无法识别，请另存为 UTF-8 编码的 CSV", [RowError(0, "文件编码无法识别")])


def _check_size(rows: int, columns: int) -> None:
    """`rows` counts the rows with a cell filled, the header included."""
    if rows > MAX_ROWS + 1 or columns > MAX_COLUMNS:
        raise ImportRejected(
            "文件过大", [RowError(0, f"文件过大：至多 {MAX_ROWS} 行、{MAX_COLUMNS} 列")]
        )


# -- XLSX ----------------------------------------------------------------------------------------
def read_xlsx(data: bytes) -> list[Sheet]:
    """Every sheet of the workbook, its cells as text (numbers without a trailing .0)."""
    from openpyxl import load_workbook

    unreadable = ImportRejected("无法读取 XLSX 文件，请用 Excel 另存为 .xlsx", [RowError(0, "不是有效的 XLSX 文件")])
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise unreadable from exc
    if unpacked > MAX_XLSX_UNPACKED:
        raise ImportRejected("文件过大", [RowError(0, f"XLSX 解压后超过 {MAX_XLSX_UNPACKED // 1024 // 1024} MB")])
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file; all mean the same here
        raise unreadable from exc
    try:
        sheets = []
        for ws in workbook.worksheets:
            records = []
            for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                cells = [_text(v) for v in values]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    records.append((number, cells))
                    _check_size(len(records), len(cells))
            # blank rows are skipped (the header is the first row with a cell filled)
            sheets.append(Sheet(ws.title, records))
    finally:
        workbook.close()
    return sheets


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()  # naive: the instant parser then asks for an offset
    return str(value).strip()
