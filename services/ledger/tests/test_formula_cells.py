"""What a reporter typed never runs as a formula in an office's spreadsheet: an export writes text
that starts with =, +, - or @ as text (with a leading '), in XLSX and CSV alike."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from services.ledger.exports import csv_bytes, xlsx_bytes
from services.ledger.tables import Column

COLUMNS = [Column("title", "标题"), Column("count", "人数")]
ROWS = [{"title": '=HYPERLINK("http://example.invalid","点此领取")', "count": 3},
        {"title": "@SUM(A1:A9)", "count": -2},
        {"title": "普通标题", "count": 0}]


def test_a_typed_formula_is_text_in_xlsx_and_numbers_stay_numbers() -> None:
    ws = load_workbook(io.BytesIO(xlsx_bytes("测试台账", COLUMNS, ROWS))).active
    titles = [ws.cell(row=r, column=1) for r in range(2, 5)]
    assert all(c.data_type == "s" for c in titles)
    assert titles[0].value.startswith("'=HYPERLINK") and titles[1].value == "'@SUM(A1:A9)"
    assert titles[2].value == "普通标题"
    assert [ws.cell(row=r, column=2).value for r in range(2, 5)] == [3, -2, 0]


def test_a_typed_formula_is_quoted_in_csv() -> None:
    text = csv_bytes(COLUMNS, ROWS).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and "'@SUM" in text
