"""The console's pages in-process, against fake services that scope like the real ones: signing in,
the cookie forwarded as the person's token, refusals shown as pages without data, escaping, the
case actions, the ledger exports and the roster's "who is responsible"."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from services.console.layout import cn_count, cn_duration, cn_time
from services.console.session import COOKIE

from .support import ConsoleWorld

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture()
def world() -> ConsoleWorld:
    return ConsoleWorld()


def signed_in(world: ConsoleWorld, role: str = "grid_staff", **kw: Any) -> str:
    token = world.mint.token(role, **kw)
    resp = world.app.client.post("/login", data={"token": token, "next": "/"})
    assert resp.status_code == 303 and resp.headers["Location"] == "/"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    return token


def get(world: ConsoleWorld, path: str) -> Any:
    return world.app.client.get(path)


def test_a_pasted_token_signs_in_and_is_forwarded_to_the_services(world: ConsoleWorld) -> None:
    token = signed_in(world, person="magang-l3-01-chief")
    resp = get(world, "/")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "待办与超期" in page
    assert "own-1" in page and "other-1" not in page
    assert "我负责" in page and "已超期" in page and "2026年3月14日 10:00" in page
    assert world.backend.calls[-1] == ("cases", token, "longgang")


def test_a_bad_token_is_refused_on_the_sign_in_form(world: ConsoleWorld) -> None:
    resp = world.app.client.post("/login", data={"token": "not-a-token"})
    assert resp.status_code == 401 and "令牌无效" in resp.get_data(as_text=True)
    assert "Set-Cookie" not in resp.headers


def test_without_a_session_every_page_asks_to_sign_in_and_comes_back(world: ConsoleWorld) -> None:
    resp = get(world, "/cases/own-1")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 401 and "请先登录" in page and 'name="next" value="/cases/own-1"' in page
    assert world.backend.calls == []


def test_sign_in_never_sends_a_person_to_another_site(world: ConsoleWorld) -> None:
    token = world.mint.token("grid_staff")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        resp = world.app.client.post("/login", data={"token": token, "next": target})
        assert resp.headers["Location"] == "/", target


def test_the_case_page_shows_the_timeline_and_the_actions_the_role_may_take(world: ConsoleWorld) -> None:
    signed_in(world)
    page = get(world, "/cases/own-1").get_data(as_text=True)
    assert "立案分派" in page and "三级网格处置中" in page and "剩余 2小时" in page
    assert 'id="action-escalate"' in page and 'id="action-close"' in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # escaped


@pytest.mark.parametrize("role, kw", [("grid_staff", {"community": "luogang"}), ("street_office", {"street": "pingshan"})])
def test_a_case_out_of_scope_shows_that_and_nothing_of_it(world: ConsoleWorld, role: str, kw: dict[str, Any]) -> None:
    signed_in(world, role, **kw)
    resp = get(world, "/cases/own-1")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 404 and "无权查看" in page
    assert "门店保本理财" not in page and "立案分派" not in page and "action-" not in page


def test_escalating_posts_the_form_and_shows_the_result(world: ConsoleWorld) -> None:
    signed_in(world)
    headers = {"Origin": "http://localhost"}
    resp = world.app.client.post("/cases/own-1/escalate", data={"reason": "超出权限", "stabilization": "已约谈"},
                                 headers=headers)
    assert resp.status_code == 303 and resp.headers["Location"] == "/cases/own-1?done=escalate"
    assert world.backend.acted == [("own-1", "escalate", {"reason": "超出权限", "stabilization": "已约谈"})]
    refused = world.app.client.post("/cases/own-1/escalate", data={"reason": "超出权限"}, headers=headers)
    assert refused.status_code == 400 and "三级网格上报须填写稳控措施" in refused.get_data(as_text=True)


def test_a_post_from_another_site_is_refused(world: ConsoleWorld) -> None:
    signed_in(world)
    resp = world.app.client.post("/cases/own-1/close", data={"reason": "x", "outcome": "resolved"},
                                 headers={"Origin": "https://evil.example"})
    assert resp.status_code == 403 and world.backend.acted == []


def test_reporting_a_clue_takes_the_community_from_the_token(world: ConsoleWorld) -> None:
    signed_in(world)
    form = get(world, "/clues/new").get_data(as_text=True)
    for field in ("community_id", "category", "source", "title", "description", "credit_code", "found_at"):
        assert f'<label for="{field}">' in form, field
    resp = world.app.client.post("/clues", data={"community_id": "magang", "category": "illegal_finance",
                                                 "source": "grid_patrol", "title": "保本理财", "description": "描述",
                                                 "found_at": "2026-03-14T10:05", "idempotency_key": "k1"},
                                 headers={"Origin": "http://localhost"})
    assert resp.status_code == 201 and "线索已上报，编号 new-1" in resp.get_data(as_text=True)
    assert world.backend.reported[0]["found_at"] == "2026-03-14T10:05:00+08:00"
    bad = world.app.client.post("/clues", data={"community_id": "magang", "description": "x"},
                                headers={"Origin": "http://localhost"})
    assert bad.status_code == 400 and "title-error" in bad.get_data(as_text=True)


def test_the_risk_preview_answers_json_while_typing(world: ConsoleWorld) -> None:
    signed_in(world)
    resp = world.app.client.post("/api/risk-preview", json={"title": "保本高息", "unknown": 1},
                                 headers={"Origin": "http://localhost"})
    assert resp.status_code == 200 and resp.get_json()["suggested_tag"] == "yellow"
    assert world.backend.calls[-1][2] == {"title": "保本高息"}


def test_the_ledger_lists_the_callers_rows_and_exports_them(world: ConsoleWorld) -> None:
    signed_in(world, "community_office")
    page = get(world, "/ledgers/clue-verification").get_data(as_text=True)
    assert "own-1" in page and "other-1" not in page and "共 1 条" in page
    csv_resp = get(world, "/ledgers/clue-verification/export?format=csv")
    rows = list(csv.reader(io.StringIO(csv_resp.get_data().decode("utf-8-sig"))))
    assert rows == [["线索编号", "社区", "线索标题", "发现时间", "核查状态"],
                    ["own-1", "magang", "'=HYPERLINK(1)", "2026年3月14日 10:00", "已分派"]]
    xlsx = get(world, "/ledgers/clue-verification/export?format=xlsx")
    ws = load_workbook(io.BytesIO(xlsx.get_data())).active
    assert ws.freeze_panes == "A2" and [c.value for c in ws[1]][0] == "线索编号" and ws.max_row == 2
    assert "filename*=UTF-8''" in xlsx.headers["Content-Disposition"]
    assert "尚未开放" in get(world, "/ledgers/petitions").get_data(as_text=True)


def test_the_roster_shows_the_tree_vacancies_and_who_is_responsible(world: ConsoleWorld) -> None:
    signed_in(world)
    page = get(world, "/roster?community_id=magang").get_data(as_text=True)
    assert "街道网格长甲01" in page and "空缺" in page and "马岗社区第01网格" in page and "网格长丙01" in page


def test_ops_may_not_use_the_console(world: ConsoleWorld) -> None:
    signed_in(world, "ops")
    resp = get(world, "/")
    assert resp.status_code == 403 and "无权" in resp.get_data(as_text=True) and world.backend.calls == []


def test_chinese_formats() -> None:
    assert cn_time("2026-03-14T02:05:00+00:00") == "2026年3月14日 10:05"
    assert cn_count(1234567) == "1,234,567"
    assert cn_duration(3 * 3600 + 20 * 60) == "3小时20分" and cn_duration(86400 + 3600) == "1天1小时"
