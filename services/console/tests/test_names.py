"""The console shows streets, communities, grids, people and units by name, never by id (issue 13):
龙岗街道 and 马岗社区 rather than `longgang` and `magang`; an id the roster does not name is a
Chinese placeholder, not the id."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from . import support
from .support import ConsoleWorld

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

IDS = ("longgang", "magang", "luogang", "magang-l3-01-chief", "magang-secretary", "magang-office-01", "police-contact-01")


@pytest.fixture()
def world() -> ConsoleWorld:
    return ConsoleWorld()


def visible(page: str) -> str:
    """What a person reads: the text of the page, without markup, attributes, style or script."""
    page = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def no_ids(text: str) -> None:
    for ident in IDS:
        assert not re.search(rf"(?<![\w-]){re.escape(ident)}(?![\w-])", text), (ident, text)


def open_page(world: ConsoleWorld, path: str, role: str = "grid_staff", **kw: Any) -> str:
    token = world.mint.token(role, **kw)
    assert world.app.client.post("/login", data={"token": token, "next": "/"}).status_code == 303
    resp = world.app.client.get(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_data(as_text=True)


def test_home_names_the_street_community_and_the_signed_in_person(world: ConsoleWorld) -> None:
    text = visible(open_page(world, "/", person="magang-l3-01-chief"))
    assert "龙岗街道在办案件" in text and "马岗社区" in text
    assert "· 网格长丙01 · 龙岗街道、马岗社区" in text
    no_ids(text)


def test_a_case_names_its_community_assignee_and_who_acted(world: ConsoleWorld, monkeypatch) -> None:
    case = {**support.CASES["own-1"], "community_name": "", "assignee_name": "",
            "history": [{"action_label": "登记", "at": "2026-03-14T10:30:00+08:00", "by": "magang-l3-01-chief",
                         "reason": ""}]}
    monkeypatch.setitem(support.CASES, "own-1", case)
    text = visible(open_page(world, "/cases/own-1", person="magang-l3-01-chief"))
    flat = re.sub(r"\s+", " ", text)
    assert "状态 三级网格处置中" in flat and "社区 马岗社区 状态" in flat and "责任人 网格长丙01" in flat
    assert "登记 · 2026年3月14日 10:30 · 网格长丙01" in flat
    no_ids(text)


def test_ledger_rows_name_streets_communities_and_people(world: ConsoleWorld, monkeypatch) -> None:
    rows = [{**support.LEDGER_ROWS[0], "assignee_person_id": "magang-l3-01-chief"},
            {**support.LEDGER_ROWS[0], "clue_id": "own-2", "community_id": "ghost-community",
             "assignee_person_id": "someone-gone"}]
    monkeypatch.setattr(support, "LEDGER_ROWS", rows)
    monkeypatch.setattr(support, "COLUMNS", [*support.COLUMNS, {"key": "street_id", "label": "街道"},
                                             {"key": "assignee_person_id", "label": "责任网格长"}])
    page = open_page(world, "/ledgers/clue-verification", "street_office", person="longgang-office-01")
    text = visible(page)
    assert "马岗社区" in text and "龙岗街道" in text and "网格长丙01" in text
    assert "（社区名称未知）" in text and "（人员姓名未知）" in text
    assert "ghost-community" not in text and "someone-gone" not in text
    # the community filter offers the street's communities by name (the code is only the value sent)
    assert '<option value="magang">马岗社区</option>' in page and '<option value="luogang">罗岗社区</option>' in page
    no_ids(text)


def test_the_clue_form_names_the_community(world: ConsoleWorld) -> None:
    own = open_page(world, "/clues/new", person="magang-secretary")
    assert 'value="马岗社区" readonly' in own and '<input type="hidden" name="community_id" value="magang">' in own
    no_ids(visible(own).replace("请选择", ""))
    office = open_page(world, "/clues/new", "street_office", person="longgang-office-01")
    assert '<option value="magang">马岗社区</option>' in office


def test_the_roster_names_people_and_never_shows_an_unnamed_persons_id(world: ConsoleWorld, monkeypatch) -> None:
    original = support.FakeBackend.tree

    def tree(self: Any, token: str, street_id: str) -> Any:
        reply = original(self, token, street_id)
        reply.body["grids"][0]["chief"] = {"person_id": "longgang-l1-chief", "name": ""}
        return reply

    monkeypatch.setattr(support.FakeBackend, "tree", tree)
    text = visible(open_page(world, "/roster", person="magang-secretary"))
    assert "龙岗街道 网格体系" in text and "网格长丙01" in text and "网格员丁01（网格员）" in text
    assert "联系人己01" in text and "（人员姓名未知）" in text and "longgang-l1-chief" not in text
    no_ids(text)


def test_ten_ones_cards_show_the_community_name_without_its_code(world: ConsoleWorld) -> None:
    text = visible(open_page(world, "/ten-ones", "street_office", person="longgang-office-01"))
    assert "马岗社区" in text and "罗岗社区" in text
    no_ids(text)


def test_an_unreadable_roster_shows_placeholders_not_ids(world: ConsoleWorld, monkeypatch) -> None:
    monkeypatch.setattr(support.FakeBackend, "tree", lambda self, token, street: support.Reply(503, {}))
    text = visible(open_page(world, "/", person="magang-l3-01-chief"))
    assert "（街道名称未知）" in text and "（社区名称未知）" in text and "（人员姓名未知）" in text
    no_ids(text)


def test_names_lookups() -> None:
    from services.console.names import Names

    names = Names.from_tree({"street_id": "s1", "name": "一街道", "communities": [{"community_id": "c1", "name": "一社区"}],
                             "grids": [], "member_units": [], "leading_group": None})
    assert (names.street("s1"), names.community("c1"), names.community("合计")) == ("一街道", "一社区", "合计")
    assert names.street("s2") == "（街道名称未知）" and names.person("") == "—"


def test_a_refused_clue_shows_every_bad_field_next_to_it(world: ConsoleWorld, monkeypatch) -> None:
    """Intake names every bad field in Chinese (fangfei.http.load); the form shows each by its field."""
    from fangfei.http import validation_error
    from services.intake.schemas import ReportClueRequest

    sent: list[dict[str, Any]] = []

    def report_clue(self: Any, token: str, clue: dict[str, Any], key: str) -> Any:
        sent.append(clue)
        err = validation_error({"found_at": ["Not a valid datetime."], "category": ["Missing data for required field."],
                                "title": ["不能为空白"]}, ReportClueRequest())
        return support.Reply(400, {"error": {"code": err.code, "message": err.message, "details": err.details}})

    monkeypatch.setattr(support.FakeBackend, "report_clue", report_clue)
    token = world.mint.token("grid_staff", person="magang-secretary")
    world.app.client.post("/login", data={"token": token, "next": "/"})
    resp = world.app.client.post("/clues", data={"community_id": "magang", "title": " ", "description": "描述",
                                                 "found_at": "昨天上午"}, headers={"Origin": "http://localhost"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and sent[0]["found_at"] == "昨天上午"  # sent as typed, for intake to name
    assert "输入校验未通过：发现时间、线索类别、线索标题 3 项有误" in page
    assert re.search(r'id="found_at-error">发现时间：不是有效的时间', page)
    assert 'id="category-error">线索类别：必填' in page and 'id="title-error">线索标题：不能为空白' in page


def test_an_instant_inside_a_timeline_reason_reads_as_beijing_time(world: ConsoleWorld, monkeypatch) -> None:
    case = {**support.CASES["own-1"], "history": [{"action_label": "超时", "at": "2026-03-14T14:00:00+08:00", "by": "",
                                                  "reason": "4小时登记：期限 2026-03-14T06:00:00.000Z"}]}
    monkeypatch.setitem(support.CASES, "own-1", case)
    text = visible(open_page(world, "/cases/own-1", person="magang-l3-01-chief"))
    assert "4小时登记：期限 2026年3月14日 14:00" in text and "06:00:00.000Z" not in text
