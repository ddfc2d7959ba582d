"""The console's pages in-process, against fake services that scope like the real ones: signing in,
the cookie forwarded as the person's token, refusals shown as pages without data, escaping, the
case actions, the ledger exports and the roster's "who is responsible"."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

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


def test_the_ledger_lists_the_callers_rows_and_exports_through_the_ledger(world: ConsoleWorld) -> None:
    token = signed_in(world, "community_office")
    page = get(world, "/ledgers/clue-verification").get_data(as_text=True)
    assert "own-1" in page and "other-1" not in page and "共 1 条" in page
    csv_resp = get(world, "/ledgers/clue-verification/export?format=csv")
    rows = list(csv.reader(io.StringIO(csv_resp.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["线索编号", "社区", "线索标题", "发现时间", "核查状态"] and [r[0] for r in rows[1:]] == ["own-1"]
    # the ledger's own file, asked with the person's token; the community is the token's, not sent
    assert world.backend.calls[-1] == ("ledger_export", token, {"format": "csv"})
    assert csv_resp.headers["X-Total-Rows"] == "1" and csv_resp.content_type.startswith("text/csv")
    xlsx = get(world, "/ledgers/clue-verification/export?format=xlsx")
    assert xlsx.get_data() == b"PK\x03\x04 ledger xlsx" and "spreadsheetml" in xlsx.content_type
    assert "filename*=UTF-8''" in xlsx.headers["Content-Disposition"]
    assert get(world, "/ledgers/daily-supervision").status_code == 404  # the old guessed keys are gone


def labelled(page: str) -> None:
    """Every visible field of the page has a <label for=…> (the issue's accessible basics)."""
    ids = re.findall(r'<(?:input|select|textarea|progress)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', page)
    assert ids, "no field on the page"
    for fid in ids:
        assert f'<label for="{fid}">' in page, fid


def test_every_one_of_the_ten_ledgers_lists_with_its_filters_and_exports(world: ConsoleWorld) -> None:
    signed_in(world, "street_office")
    index = get(world, "/ledgers").get_data(as_text=True)
    assert len(re.findall(r'href="/ledgers/[a-z-]+"', index)) == 10
    for key in ("supervision", "risk-enterprises", "clue-verification", "internet-finance", "publicity", "ad-cleanup",
                "case-progress", "asset-disposal", "petition", "emergency"):
        assert f'href="/ledgers/{key}"' in index, key
        resp = get(world, f"/ledgers/{key}")
        page = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "共 1 条" in page and "尚未开放" not in page, key
        assert f'href="/ledgers/{key}/export?format=xlsx"' in page and f'href="/ledgers/{key}/export?format=csv"' in page
        labelled(page)
        assert ('id="period_from"' in page) == (key != "clue-verification"), key
        assert ('id="status"' in page) == (key != "publicity"), key
        export = get(world, f"/ledgers/{key}/export?format=csv")
        assert export.status_code == 200 and world.backend.calls[-1][0] == "ledger_export", key


def test_ledger_filters_reach_the_ledger_and_its_export(world: ConsoleWorld) -> None:
    token = signed_in(world, "street_office")
    page = get(world, "/ledgers/petition?status=handling&period_from=2026-03-01&period_to=3月&community_id=magang"
                      "&street_id=pingshan").get_data(as_text=True)
    # the street is the token's; a period that is not a date is left out rather than refused
    assert world.backend.calls[-1] == ("ledger", token, {"status": "handling", "period_from": "2026-03-01",
                                                         "community_id": "magang"})
    assert '<option value="handling" selected>办理中</option>' in page
    assert "/ledgers/petition/export?community_id=magang&amp;period_from=2026-03-01&amp;status=handling&amp;format=csv" in page
    get(world, "/ledgers/petition/export?format=xlsx&status=handling&community_id=magang")
    assert world.backend.calls[-1] == ("ledger_export", token, {"community_id": "magang", "status": "handling",
                                                                "format": "xlsx"})


def test_the_community_sees_its_ten_ones_progress(world: ConsoleWorld) -> None:
    token = signed_in(world, "community_office")
    resp = get(world, "/ten-ones")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and world.backend.calls[-1] == ("statistics", token, {"table": "ten-ones"})
    assert 'id="ten-ones-magang"' in page and "马岗社区" in page and "已完成 <strong>3</strong> / 3 项" in page
    assert "达标" in page and "一名联络员" in page and 'value="3"' in page
    assert "罗岗社区" not in page and "ten-ones-summary" not in page  # nor a street total
    assert 'href="/statistics/ten-ones/export?format=xlsx"' in page
    labelled(page)


def test_the_street_office_sees_every_communitys_ten_ones_and_the_target(world: ConsoleWorld) -> None:
    signed_in(world, "street_office")
    page = get(world, "/ten-ones").get_data(as_text=True)
    assert "马岗社区" in page and "罗岗社区" in page and "坪山一社区" not in page
    assert re.search(r'id="ten-ones-summary">全街道：达标 1/2 · <strong>已达目标</strong>', page)
    assert "已完成 <strong>1</strong> / 3 项" in page and "未达标" in page


def test_the_statistics_page_lists_every_table_with_its_exports(world: ConsoleWorld) -> None:
    token = signed_in(world, "district_office")
    index = get(world, "/statistics").get_data(as_text=True)
    assert "请填写要统计的街道编号" in index and world.backend.calls == []
    index = get(world, "/statistics?street_id=longgang&period_from=2026-03-01").get_data(as_text=True)
    for key in ("campaign-work", "clue-screening", "cross-province", "weekly-summary", "monthly-summary", "ten-ones",
                "scorecard-persons", "scorecard-communities", "assessment-facts"):
        assert f'id="export-{key}-xlsx"' in index and f'id="export-{key}-csv"' in index, key
        assert f"/statistics/{key}/export?period_from=2026-03-01&amp;street_id=longgang&amp;format=csv" in index, key
    assert "风险线索排查处置情况统计表" in index and "量化考核计分表（社区）" in index
    labelled(index)
    table = get(world, "/statistics/clue-screening?street_id=longgang").get_data(as_text=True)
    assert "线索总数" in table and "1,234" in table and "共 1 行" in table
    export = get(world, "/statistics/clue-screening/export?format=csv&street_id=longgang")
    assert export.status_code == 200 and "线索总数" in export.get_data().decode("utf-8-sig")
    assert world.backend.calls[-1] == ("statistics_export", token, {"street_id": "longgang", "table": "clue-screening",
                                                                    "format": "csv"})
    assert get(world, "/statistics/unknown-table?street_id=longgang").status_code == 404


def test_a_member_unit_sees_statistics_only_of_its_own_streets(world: ConsoleWorld) -> None:
    signed_in(world, "member_unit")
    page = get(world, "/statistics/clue-screening?street_id=pingshan").get_data(as_text=True)
    assert world.backend.calls[-1][2]["street_id"] == "longgang" and "pingshan" not in page


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
