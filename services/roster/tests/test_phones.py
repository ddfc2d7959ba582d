"""联系方式 in the roster: only Chinese mobile, landline (with area code) and 400/800 numbers are
accepted, from a CSV or XLSX import and from the HTTP API, and each is stored in one written form
so the exported lists and the contact cards agree. A wrong number is refused with the row and the
column named, in Chinese. (Phone digits are built here at run time: no real-looking number is
written in the repository.)"""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import Workbook

from services.roster.cells import normalize_phone
from services.roster.facts import ImportRejected
from services.roster.importer import parse_csv, parse_file

from .helpers import demo_table, edit, find_row, import_bytes, new_store, to_csv
from .test_service import body, demo, send, service  # noqa: F401 (fixtures)

MOBILE = "-".join(("139", "0000", "0777"))  # the stored form
LANDLINE = "0551-" + "8765" + "4321"


@pytest.mark.parametrize("typed, stored", [
    ("139 0000 0777", MOBILE),
    ("+86 139-0000-0777", MOBILE),
    ("139" + "0000" + "0777", MOBILE),
    ("0551 8765 4321", LANDLINE),
    ("(0551)87654321", LANDLINE),
    ("0551－８７６５４３２１", LANDLINE),  # full-width, as typed with a Chinese input method
    ("0551-87654321 转 801", LANDLINE + "-801"),
    ("0551-87654321-801", LANDLINE + "-801"),
    ("010 6512 3456", "010-65123456"),
    ("400 800 1234", "400-800-1234"),
])
def test_numbers_typed_in_the_usual_ways_are_stored_in_one_form(typed: str, stored: str) -> None:
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize("typed", [
    "12345",  # a hotline, no one's contact number
    "8765432",  # a landline without its area code
    "120" + "0000" + "0777",  # 11 digits but no mobile prefix (12x)
    "139" + "0000" + "07771",  # 12 digits
    "0123-87654321",  # no such area code
    "139-0000-0777 转 2",  # mobiles have no extension
    "电话待补",
    "+86 139",
])
def test_what_is_no_chinese_phone_number_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        normalize_phone(typed)


def _reasons(exc: pytest.ExceptionInfo[ImportRejected]) -> dict[int, str]:
    return {e.row: e.reason for e in exc.value.errors}


def test_a_csv_row_with_a_wrong_number_is_refused_naming_row_and_column() -> None:
    table = demo_table()
    row = find_row(table, 人员编号="magang-l3-01-chief")
    edit(table, row, 联系方式="8765432")
    with pytest.raises(ImportRejected) as exc:
        parse_csv(to_csv(table))
    reason = _reasons(exc)[row]
    assert reason.startswith("联系方式「8765432」无效") and "区号" in reason
    assert exc.value.errors[0].row == row


def test_an_imported_number_is_stored_in_its_normal_form() -> None:
    table = demo_table()
    edit(table, find_row(table, 人员编号="magang-l3-01-chief"), 联系方式="139 0000 0777")
    edit(table, find_row(table, 人员编号="magang-liaison"), 联系方式="(0551)8765 4321 转 801")
    store = new_store()
    import_bytes(store, to_csv(table))
    phones = {pid: store.events.read_stream(f"person-{pid}")[0].payload["phone"]
              for pid in ("magang-l3-01-chief", "magang-liaison")}
    assert phones == {"magang-l3-01-chief": MOBILE, "magang-liaison": LANDLINE + "-801"}


def test_an_xlsx_row_with_a_wrong_number_is_refused_with_its_sheet_and_row() -> None:
    table = demo_table()
    row = find_row(table, 人员编号="magang-liaison")
    edit(table, row, 联系方式="120" + "0000" + "0777")
    book = Workbook()
    sheet = book.active
    sheet.title = "街道名册"
    for cells in table:
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ImportRejected) as exc:
        parse_file(out.getvalue(), "xlsx")
    [error] = exc.value.errors
    assert (error.sheet, error.row) == ("街道名册", row)
    assert error.reason.startswith("联系方式「1200000") and "手机号" in error.reason


def test_the_api_refuses_a_wrong_number_and_stores_a_right_one_normalized(demo) -> None:  # noqa: F811
    base = "/api/roster/streets/longgang/people/magang-v9/roles"
    role = {"role": "volunteer", "grid_id": "magang-l3-01", "valid_from": "2026-01-01T00:00:00+08:00",
            "name": "志愿者壬98", "phone": "8765432"}
    resp = demo.assign_role(send("POST", base, role), "longgang", "magang-v9")
    assert resp.status_code == 400
    text = json.dumps(body(resp), ensure_ascii=False)  # the error's layout is http.py's; its words are ours
    assert "phone" in text and "「8765432」无效" in text and "区号" in text
    resp = demo.assign_role(send("POST", base, {**role, "phone": "139 0000 0777"}), "longgang", "magang-v9")
    assert resp.status_code == 201
    assert demo.store.events.read_stream("person-magang-v9")[0].payload["phone"] == MOBILE
