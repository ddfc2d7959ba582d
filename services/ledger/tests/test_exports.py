"""Exports as an office opens them: every ledger as XLSX (openpyxl) with Chinese headers, a frozen
header row and the right row count; CSV alike; a community user's export holds only its rows."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from fangfei.testing.auth import test_gate
from fangfei.testing.stores import memory_store
from services.ledger.ledgers import LEDGERS
from services.ledger.service import LedgerService
from services.ledger.statistics import TABLES

from .history import COMMUNITIES, generate

GATE, MINT = test_gate()
STREET = "longgang"
OWN = COMMUNITIES[STREET][0]
OWN_NAME = f"{OWN}社区"  # the generated roster's name for it: exports show names, not ids (issue 13)


@pytest.fixture(scope="module")
def service() -> LedgerService:
    svc = worker_factory(LedgerService, store=memory_store("ledger"), auth=GATE)
    for stream in generate(1500):
        for event in stream:
            svc.on_event(event) if event.type not in ("clue.reported", "case.opened") else (
                svc.on_clue_reported(event) if event.type == "clue.reported" else svc.on_case_opened(event))
    return svc


def call(svc: LedgerService, method: str, path: str, query: dict[str, Any], role: str = "district_office",
         **token: Any) -> Any:
    req = Request(EnvironBuilder(method="GET", path=path, query_string=query,
                                 headers=MINT.headers(role, street=STREET, **token)).get_environ())
    return getattr(svc, method)(req, path.split("/")[3])


@pytest.mark.parametrize("key", list(LEDGERS))
def test_every_ledger_exports_as_a_real_workbook_with_the_rows_of_the_listing(service, key) -> None:
    resp = call(service, "export_ledger", f"/api/ledgers/{key}/export", {"format": "xlsx", "street_id": STREET})
    assert resp.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(resp.get_data())).active
    listing = call(service, "list_ledger", f"/api/ledgers/{key}", {"street_id": STREET, "page_size": 1})
    import json
    body = json.loads(listing.get_data())
    assert [c.value for c in ws[1]] == [c["label"] for c in body["columns"]]
    assert ws.freeze_panes == "A2"
    assert ws.max_row - 1 == body["total"] > 0
    assert ws.column_dimensions["A"].width >= 8


@pytest.mark.parametrize("key", list(LEDGERS))
def test_a_community_users_export_holds_only_its_community(service, key) -> None:
    resp = call(service, "export_ledger", f"/api/ledgers/{key}/export", {"format": "csv"}, role="grid_staff",
                community=OWN)
    rows = list(csv.DictReader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert {r["社区"] for r in rows} <= {OWN_NAME}
    everyone = call(service, "export_ledger", f"/api/ledgers/{key}/export", {"format": "csv", "street_id": STREET})
    all_rows = list(csv.DictReader(io.StringIO(everyone.get_data().decode("utf-8-sig"))))
    assert len(rows) == sum(r["社区"] == OWN_NAME for r in all_rows) and len(all_rows) > len(rows)


@pytest.mark.parametrize("key", list(TABLES))
def test_every_statistics_table_exports_and_a_community_sees_only_its_row(service, key) -> None:
    resp = call(service, "export_statistics", f"/api/statistics/{key}/export", {"format": "xlsx",
                                                                              "street_id": STREET})
    ws = openpyxl.load_workbook(io.BytesIO(resp.get_data())).active
    assert [c.value for c in ws[1]] == [c.header for c in TABLES[key].columns_spec]
    mine = call(service, "export_statistics", f"/api/statistics/{key}/export", {"format": "csv"},
                role="community_office", community=OWN)
    rows = list(csv.DictReader(io.StringIO(mine.get_data().decode("utf-8-sig"))))
    assert all(r.get("社区", OWN_NAME) in (OWN_NAME, "") for r in rows)
    assert "合计" not in mine.get_data().decode("utf-8-sig")


def test_ten_ones_reports_the_share_of_certified_communities(service) -> None:
    import json
    body = json.loads(call(service, "statistics", "/api/statistics/ten-ones", {"street_id": STREET}).get_data())
    total = body["rows"][-1]
    assert total["community_id"] == "合计" and "/4" in total["community_name"]


def test_an_export_shows_instants_in_beijing_time_without_a_z() -> None:
    """Rows keep UTC; the sheet an office opens reads Beijing time (issue 13)."""
    from services.ledger.exports import csv_bytes, xlsx_bytes
    from services.ledger.tables import Column

    columns = [Column("found_at", "发现时间"), Column("day", "日期"), Column("note", "说明")]
    rows = [{"found_at": "2026-03-14T17:30:00.000Z", "day": "2026-03-14", "note": "晚间巡查"}]
    text = csv_bytes(columns, rows).decode("utf-8-sig")
    assert "2026-03-15 01:30" in text and "Z" not in text and "2026-03-14," in text
    ws = openpyxl.load_workbook(io.BytesIO(xlsx_bytes("测试台账", columns, rows))).active
    assert [c.value for c in ws[2]] == ["2026-03-15 01:30", "2026-03-14", "晚间巡查"]


def test_no_export_of_a_real_ledger_carries_a_utc_instant(service) -> None:
    import re

    for key in LEDGERS:
        resp = call(service, "export_ledger", f"/api/ledgers/{key}/export", {"format": "csv", "street_id": STREET})
        text = resp.get_data().decode("utf-8-sig")
        assert not re.search(r"\dT\d{2}:\d{2}", text), key
