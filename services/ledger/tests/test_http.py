"""What an office worker sees of the 线索核查台账 through the real entrypoints: events go in
through the service's event handlers, rows come out of the HTTP API."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from fangfei.bus.entrypoint import EventHandler
from fangfei.testing.auth import test_gate
from fangfei.testing.stores import memory_store
from services.ledger.ledgers import PROJECTORS
from services.ledger.service import LedgerService

from .factories import T0, case_opened, clue_reported


GATE, MINT = test_gate()


def get(service: LedgerService, path: str, query: dict[str, Any] | None = None, role: str | None = "district_office",
        **token_kw: Any) -> tuple[int, Any]:
    """GET as `role` (default the district office, which sees every street but must name one)."""
    headers = MINT.headers(role, **token_kw) if role else {}
    request = Request(EnvironBuilder(method="GET", path=path, query_string=query or {}, headers=headers).get_environ())
    parts = path.strip("/").split("/")  # api / ledgers / <ledger> [/ <id>]
    if len(parts) == 3:
        resp = service.list_ledger(request, parts[2])
    else:
        resp = service.get_ledger_row(request, parts[2], parts[3])
    return resp.status_code, json.loads(resp.get_data())


def listing(service: LedgerService, role: str = "district_office", token: dict[str, str] | None = None,
            **query: Any) -> tuple[int, Any]:
    return get(service, "/api/ledgers/clue-verification", query, role, **(token or {}))


@pytest.fixture
def service() -> LedgerService:
    svc = worker_factory(LedgerService, store=memory_store("ledger"), auth=GATE)
    # longgang: five clues found an hour apart (c0 earliest), two in bantian, c1 and c3 routed
    for i in range(5):
        community = "bantian" if i in (1, 2) else "magang"
        found = (T0 + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        svc.on_clue_reported(clue_reported(f"c{i}", community_id=community, found_at=found))
        if i in (1, 3):
            svc.on_case_opened(case_opened(f"c{i}", community_id=community, found_at=found))
    svc.on_clue_reported(clue_reported("other", street_id="pingshan", community_id="pingshan1"))
    return svc


def test_every_fed_event_type_has_a_handler_in_the_service() -> None:
    handled = {
        ext.event_type
        for name in dir(LedgerService)
        for ext in getattr(getattr(LedgerService, name), ENTRYPOINT_EXTENSIONS_ATTR, ())
        if isinstance(ext, EventHandler)
    }
    assert handled == set(PROJECTORS)


def test_listing_shows_the_streets_rows_newest_first_with_chinese_headers(service) -> None:
    status, body = listing(service, street_id="longgang")
    assert status == 200
    assert body["ledger"] == "非法集资举报线索核查台账"
    assert {"key": "status_label", "label": "核查状态"} in body["columns"]
    assert {"key": "category_label", "label": "线索类别"} in body["columns"]
    assert [r["clue_id"] for r in body["rows"]] == ["c4", "c3", "c2", "c1", "c0"]
    assert (body["page"], body["page_size"], body["total"]) == (1, 50, 5)
    assert all("_applied" not in r and "status_rank" not in r for r in body["rows"])
    assert {r["street_id"] for r in body["rows"]} == {"longgang"}


def test_every_column_has_a_value_key_in_each_row(service) -> None:
    _, body = listing(service, street_id="longgang")
    keys = {c["key"] for c in body["columns"]}
    assert all(keys <= set(row) for row in body["rows"])


def test_filters_by_community_and_status(service) -> None:
    _, by_community = listing(service, street_id="longgang", community_id="bantian")
    assert [r["clue_id"] for r in by_community["rows"]] == ["c2", "c1"]
    _, routed = listing(service, street_id="longgang", status="routed")
    assert [r["clue_id"] for r in routed["rows"]] == ["c3", "c1"] and routed["total"] == 2
    _, both = listing(service, street_id="longgang", community_id="bantian", status="reported")
    assert [r["clue_id"] for r in both["rows"]] == ["c2"]


def test_paging_walks_the_rows_without_overlap(service) -> None:
    pages = [listing(service, street_id="longgang", page=p, page_size=2)[1] for p in (1, 2, 3, 4)]
    assert [[r["clue_id"] for r in p["rows"]] for p in pages] == [["c4", "c3"], ["c2", "c1"], ["c0"], []]
    assert {p["total"] for p in pages} == {5}


@pytest.mark.parametrize(
    "asked, given", [({"page_size": 1000}, (1, 200)), ({"page_size": 0}, (1, 1)), ({"page": 0}, (1, 50))]
)
def test_out_of_range_paging_is_clamped(service, asked, given) -> None:
    status, body = listing(service, street_id="longgang", **asked)
    assert status == 200
    assert (body["page"], body["page_size"]) == given


def test_missing_street_is_refused_in_chinese(service) -> None:
    status, body = listing(service, community_id="magang")
    assert status == 400
    assert body["error"]["message"] == "请指定街道（street_id）"
    assert "street_id" in body["error"]["details"]


@pytest.mark.parametrize(
    "query, field",
    [({"status": "closed-ish"}, "status"), ({"page": "two"}, "page"), ({"sort": "title"}, "sort")],
    ids=["unknown-status", "non-integer-page", "unknown-parameter"],
)
def test_bad_filters_are_refused_with_the_parameter_named(service, query, field) -> None:
    status, body = listing(service, street_id="longgang", **query)
    assert status == 400
    assert field in body["error"]["details"]


def test_one_row_by_clue_id(service) -> None:
    status, row = get(service, "/api/ledgers/clue-verification/c3")
    assert status == 200
    assert row["clue_id"] == "c3" and row["status_label"] == "已分派" and row["case_id"] == "k-c3"
    assert "_applied" not in row


def test_unknown_clue_and_unknown_ledger_are_404(service) -> None:
    status, body = get(service, "/api/ledgers/clue-verification/nope")
    assert status == 404 and body["error"]["message"] == "未找到：台账记录 nope"
    status, body = get(service, "/api/ledgers/no-such-ledger", {"street_id": "longgang"})
    assert status == 404 and "台账" in body["error"]["message"]


def test_redelivered_event_through_the_handler_changes_nothing(service) -> None:
    _, before = get(service, "/api/ledgers/clue-verification/c1")
    service.on_clue_reported(clue_reported("c1", community_id="bantian", title="重复投递"))
    _, after = get(service, "/api/ledgers/clue-verification/c1")
    assert after == before


# -- access control: who sees which rows (S1) --------------------------------------------------------
def ids(body: Any) -> list[str]:
    return [r["clue_id"] for r in body["rows"]]


def test_a_street_office_sees_its_own_street_without_naming_it(service) -> None:
    status, body = listing(service, role="street_office")
    assert status == 200 and ids(body) == ["c4", "c3", "c2", "c1", "c0"]


def test_a_street_office_asking_for_another_street_is_refused(service) -> None:
    status, body = listing(service, role="street_office", token={"street": "pingshan"}, street_id="longgang")
    assert (status, body["error"]["code"]) == (403, "street_out_of_scope")
    assert ids(listing(service, role="street_office", token={"street": "pingshan"})[1]) == ["other"]


def test_grid_staff_see_only_their_community(service) -> None:
    _, body = listing(service, role="grid_staff", token={"community": "bantian"})
    assert ids(body) == ["c2", "c1"] and body["total"] == 2
    status, body = listing(service, role="grid_staff", token={"community": "bantian"}, community_id="magang")
    assert (status, body["error"]["code"]) == (403, "community_out_of_scope")


def test_a_row_outside_the_callers_scope_is_not_found(service) -> None:
    assert get(service, "/api/ledgers/clue-verification/c3", role="street_office")[0] == 200
    assert get(service, "/api/ledgers/clue-verification/other", role="street_office")[0] == 404
    assert get(service, "/api/ledgers/clue-verification/c1", role="grid_staff", community="bantian")[0] == 200
    assert get(service, "/api/ledgers/clue-verification/c3", role="grid_staff", community="bantian")[0] == 404


def test_a_member_unit_reads_the_streets_it_serves(service) -> None:
    _, body = listing(service, role="member_unit", token={"streets": ("longgang", "pingshan")}, street_id="pingshan")
    assert ids(body) == ["other"]
    status, body = listing(service, role="member_unit", token={"streets": ("longgang", "pingshan")})
    assert (status, body["error"]["code"]) == (403, "street_required")


def test_without_a_token_or_with_the_ops_role_nothing_is_shown(service) -> None:
    assert listing(service, role=None, street_id="longgang")[0] == 401  # type: ignore[arg-type]
    assert listing(service, role="ops", street_id="longgang")[0] == 403



def test_instants_are_answered_in_beijing_time_with_their_offset(service) -> None:
    """found_at went in as 01:00 UTC; an office reads 09:00 on the same day, +08:00 (issue 13)."""
    _, body = listing(service, street_id="longgang")
    c0 = next(r for r in body["rows"] if r["clue_id"] == "c0")
    assert c0["found_at"] == "2026-03-14T09:00:00.000+08:00"
    instants = [v for r in body["rows"] for k, v in r.items() if k.endswith("_at") and v]
    assert instants and all(v.endswith("+08:00") and not v.endswith("Z") for v in instants)
    _, row = get(service, "/api/ledgers/clue-verification/c1")
    assert row["found_at"] == "2026-03-14T10:00:00.000+08:00"
    assert row["routed_at"].endswith("+08:00") and row["register_deadline"].endswith("+08:00")


def test_three_bad_filters_are_all_named_in_chinese(service) -> None:
    status, body = listing(service, community_id="bad id!", status="closed-ish", page="two")
    assert status == 400
    error = body["error"]
    assert set(error["details"]) == {"street_id", "community_id", "status", "page"}
    assert error["details"]["page"] == ["页码：须为整数"]
    assert error["details"]["street_id"] == ["街道：请指定街道（street_id）"]
    assert error["message"].startswith("输入校验未通过：") and error["message"].endswith("4 项有误")
