"""Importing a 街道名册: what a street clerk sees when the file is right or wrong."""

from __future__ import annotations

from collections import Counter

import pytest

from services.roster.facts import ImportRejected
from services.roster.importer import parse_csv, parse_file
from services.roster.projections import roster_view

from .helpers import (
    DEMO, NOW, T0, all_events, demo_table, edit, find_row, grid_row, import_bytes, new_store, to_csv, with_rows,
)

DEMO_COUNTS = {"streets": 1, "communities": 10, "grids": 21, "people": 64, "chief_assignments": 21, "vacancies": 0,
               "role_assignments": 63, "role_endings": 0, "member_units": 7, "sector_assignments": 3,
               "leading_groups": 1}
NOTHING = {k: 0 for k in DEMO_COUNTS}


@pytest.fixture
def store():
    return new_store()


def reasons(exc: pytest.ExceptionInfo[ImportRejected]) -> dict[int, str]:
    return {e.row: e.reason for e in exc.value.errors}


def test_demo_file_records_the_whole_street(store) -> None:
    assert import_bytes(store, DEMO.read_bytes())["created"] == DEMO_COUNTS
    events = all_events(store)
    assert {e.street_id for e in events} == {"longgang"}
    assert {e.actor for e in events} == {"clerk-01"}
    grid = store.events.read_stream("grid-magang-l3-01")
    assert [e.type for e in grid] == ["roster.grid_registered", "roster.chief_assigned"]
    assert grid[0].payload == {
        "grid_id": "magang-l3-01", "name": "马岗社区第01网格", "level": 3,
        "parent_grid_id": "magang-l2", "community_id": "magang",
    }
    liaison = store.events.read_stream("person-magang-liaison")
    assert [e.type for e in liaison] == ["roster.person_registered", "roster.role_assigned"]
    assert (liaison[0].payload["role"], liaison[0].payload["community_id"]) == ("liaison", "magang")
    assert liaison[1].payload["grid_id"] == "magang-l2"


def test_a_person_with_several_roles_is_registered_once_with_the_weightiest(store) -> None:
    """马岗社区书记 is also its grid worker and sits in the leading group (seed 004 附件1)."""
    import_bytes(store, DEMO.read_bytes())
    stream = store.events.read_stream("person-magang-secretary")
    registration, *roles = stream
    assert registration.payload["role"] == "community_secretary"
    assert registration.payload["community_id"] == "magang"  # the group seat has no community
    assert sorted((e.payload["role"], e.payload["position"]) for e in roles) == [
        ("community_secretary", ""), ("grid_staff", ""), ("leader", "member")]


def test_importing_the_same_file_again_records_nothing(store) -> None:
    import_bytes(store, DEMO.read_bytes())
    head = store.events.head_position()
    assert import_bytes(store, DEMO.read_bytes())["created"] == NOTHING
    assert store.events.head_position() == head


def test_every_bad_row_is_reported_with_its_number_and_reason() -> None:
    table = demo_table()
    edit(table, 3, 网格层级="4")
    edit(table, 5, 任职起始="2025-01-01")
    edit(table, 8, 上级网格编号="nowhere-l2")
    with pytest.raises(ImportRejected) as exc:
        parse_csv(to_csv(table))
    found = reasons(exc)
    assert sorted(found) == [3, 5, 8]
    assert "网格层级「4」无效" in found[3]
    assert "任职起始「2025-01-01」无效" in found[5] and "时区" in found[5]
    assert "上级网格 nowhere-l2 未登记" in found[8]


def test_several_problems_of_one_row_are_reported_together() -> None:
    table = with_rows(grid_row(街道编号="", 人员角色="队长"))
    with pytest.raises(ImportRejected) as exc:
        parse_csv(to_csv(table))
    assert "街道编号不能为空" in reasons(exc)[2] and "人员角色「队长」无效" in reasons(exc)[2]


def test_a_missing_or_unknown_column_is_named() -> None:
    table = demo_table()
    column = table[0].index("任职起始")
    for row in table:
        del row[column]
    table[0].append("备注")
    for row in table[1:]:
        row.append("")
    with pytest.raises(ImportRejected) as exc:
        parse_csv(to_csv(table))
    assert reasons(exc) == {1: "缺少列：任职起始；未知列：备注"}


def test_a_file_in_the_walking_skeleton_columns_still_imports(store) -> None:
    """The 13 columns of the first roster files are enough for grids and the people on them."""
    skeleton = ("街道编号", "街道名称", "社区编号", "社区名称", "社区类型", "网格编号", "网格名称", "网格层级",
                "上级网格编号", "人员编号", "人员姓名", "人员角色", "任职起始")
    table = demo_table()
    keep = [table[0].index(c) for c in skeleton]
    grid_rows = [row for row in table[1:] if row[table[0].index("网格编号")]]
    old = [[row[i] for i in keep] for row in [table[0]] + grid_rows]
    created = import_bytes(store, to_csv(old))["created"]
    assert (created["grids"], created["chief_assignments"], created["member_units"]) == (21, 21, 0)
    assert store.events.read_stream("person-magang-l2-chief")[0].payload["phone"] == ""


def test_columns_may_come_in_any_order_and_trailing_empty_cells_may_be_missing() -> None:
    table = demo_table()
    moved = [[row[-1]] + row[:-1] for row in table]  # 任职截止 first
    assert len(parse_csv(to_csv(moved))) == len(table) - 1
    liaison_only = with_rows(grid_row(网格编号="magang-l2", 网格层级="2", 上级网格编号="longgang-l1",
                                      人员编号="magang-liaison", 人员姓名="联络员丁01", 人员角色="联络员"))
    liaison_only[1] = liaison_only[1][:-1]  # Excel drops the empty last cell
    with pytest.raises(ImportRejected) as exc:
        parse_csv(to_csv(liaison_only))
    # read fine: the only problem is the reference to a grid this lone file does not define
    assert reasons(exc) == {2: "上级网格 longgang-l1 未登记（本文件和已有名册中都没有）"}


def test_a_file_saved_by_chinese_excel_is_read() -> None:
    assert parse_csv(to_csv(demo_table(), "gb18030")) == parse_csv(DEMO.read_bytes())


def test_empty_file_is_refused() -> None:
    with pytest.raises(ImportRejected):
        parse_csv(b"")


@pytest.mark.parametrize(
    "over, words",
    [
        ({"网格编号": "longgang-l1", "网格层级": "1", "上级网格编号": ""}, "社区编号、社区名称、社区类型须留空"),
        ({"任职起始": ""}, "任职起始不能为空"),
        ({"任职截止": "2024-12-31T00:00:00+08:00"}, "任职截止须晚于任职起始"),
        ({"人员编号": ""}, "人员编号不能为空"),
        ({"人员编号": "张 三"}, "人员编号「张 三」无效"),
        ({"上级网格编号": "magang-l3-01"}, "上级网格不能是网格自身"),
        ({"网格名称": "长" * 101}, "网格名称过长"),
        ({"人员姓名": "=HYPERLINK(\"x\")"}, "不能以 = + - @ 开头"),
        ({"联系方式": "+86 139"}, "联系方式「+86 139」无效"),
        ({"人员角色": "成员单位联系人"}, "网格行的人员角色须为"),
        ({"成员单位编号": "longgang-pcs"}, "网格行不写成员单位和领导小组"),
        ({"负责行业": "养老"}, "网格行不写成员单位和领导小组"),
    ],
    ids=["street-grid-with-community", "person-without-start", "end-before-start", "half-a-person",
         "bad-id", "own-parent", "too-long", "formula", "phone", "unit-role-on-grid", "unit-on-grid",
         "sectors-on-grid"],
)
def test_a_grid_row_that_contradicts_itself_is_refused(over: dict[str, str], words: str) -> None:
    table = demo_table()
    row = find_row(table, 人员编号="magang-l3-01-chief")
    edit(table, row, **over)
    with pytest.raises(ImportRejected) as exc:
        parse_csv(to_csv(table))
    assert words in reasons(exc)[row]


@pytest.mark.parametrize(
    "find, over, words",
    [
        ({"人员编号": "longgang-pcs-contact"}, {"人员角色": "联络员"}, "成员单位行的人员角色须为成员单位联系人"),
        ({"人员编号": "longgang-pcs-contact"}, {"社区编号": "magang"}, "成员单位行不写社区"),
        ({"成员单位编号": "longgang-csgl", "人员编号": ""}, {"负责行业": "炒股"}, "负责行业中「炒股」不是行业目录中的行业"),
        ({"成员单位编号": "longgang-csgl", "人员编号": ""}, {"职责起始": ""}, "职责起始不能为空"),
        ({"成员单位编号": "longgang-pcs"}, {"单位类型": "银行"}, "单位类型「银行」无效"),
        ({"成员单位编号": "longgang-pcs"}, {"领导小组名称": "另一个小组"}, "领导小组名称只写在"),
        ({"人员编号": "longgang-lg-01"}, {"人员角色": "处非办工作人员"}, "组长的人员角色须为领导"),
        ({"人员编号": "longgang-lg-01"}, {"小组职务": "秘书长"}, "小组职务「秘书长」无效"),
        ({"人员编号": "longgang-lg-01"}, {"网格编号": "magang-l2"}, "领导小组成员行只写成员单位编号"),
        ({"人员编号": "longgang-lg-04"}, {"成员单位编号": "nowhere"}, "成员单位 nowhere 未登记"),
        ({"人员编号": "magang-liaison"}, {"网格编号": "longgang-l1", "网格名称": "龙岗街道一级网格", "网格层级": "1",
                                         "上级网格编号": "", "社区编号": "", "社区名称": "", "社区类型": ""},
         "联络员属于社区，不能登记在一级网格"),
    ],
    ids=["contact-role", "unit-in-community", "unknown-sector", "sectors-without-date", "unit-kind",
         "group-name-on-unit", "position-vs-role", "position", "group-member-on-grid", "unknown-unit",
         "liaison-on-street-grid"],
)
def test_unit_and_group_rows_follow_their_rules(find: dict[str, str], over: dict[str, str], words: str) -> None:
    table = demo_table()
    row = find_row(table, **find)
    edit(table, row, **over)
    with pytest.raises(ImportRejected) as exc:
        parse_csv(to_csv(table))
    assert words in reasons(exc)[row]


@pytest.mark.parametrize(
    "find, over, words",
    [
        ({"人员编号": "magang-liaison"}, {"网格名称": "马岗二级"}, "网格 magang-l2 的名称与第 3 行不一致"),
        ({"人员编号": "luogang-l2-chief"}, {"社区编号": "magang"}, "社区 magang 的名称与第 3 行不一致"),
        ({"人员编号": "luogang-l2-chief"}, {"网格编号": "luogang-l1", "网格层级": "1", "社区编号": "", "社区名称": "",
                                           "社区类型": "", "上级网格编号": "", "人员角色": "网格员"},
         "已有一级网格 longgang-l1"),
        ({"人员编号": "magang-l3-01-chief"}, {"上级网格编号": "longgang-l1"}, "3 级网格的上级须为 2 级网格"),
        ({"人员编号": "magang-l3-01-chief"}, {"上级网格编号": "luogang-l2"}, "属于社区 luogang，不是本行的社区 magang"),
        ({"人员编号": "magang-secretary", "人员角色": "社区书记"}, {"联系方式": "139-9999-9999"},
         "人员 magang-secretary 的联系方式与第 4 行不一致"),
        ({"人员编号": "magang-secretary", "人员角色": "社区书记"}, {"人员姓名": "别的名字"},
         "人员 magang-secretary 的名称与第 4 行不一致"),
        ({"成员单位编号": "longgang-ggfw", "人员编号": "longgang-ggfw-contact"}, {"成员单位名称": "公服办"},
         "成员单位 longgang-ggfw 的名称与第"),
    ],
    ids=["grid-named-twice", "community-named-twice", "second-street-grid", "skipped-level",
         "other-community", "two-phones", "two-names", "unit-named-twice"],
)
def test_rows_that_contradict_each_other_are_refused(find: dict[str, str], over: dict[str, str], words: str) -> None:
    table = demo_table()
    row = find_row(table, **find)
    edit(table, row, **over)
    with pytest.raises(ImportRejected) as exc:
        parse_csv(to_csv(table))
    assert words in reasons(exc)[row]


def test_an_empty_phone_on_one_row_does_not_contradict_another() -> None:
    table = demo_table()
    edit(table, find_row(table, 人员编号="magang-secretary", 人员角色="社区书记"), 联系方式="")
    parse_csv(to_csv(table))


def test_two_chiefs_of_one_grid_from_the_same_instant_are_refused() -> None:
    table = demo_table() + with_rows(grid_row(人员编号="magang-l3-01-chief-b", 人员姓名="网格长丙99"))[1:]
    with pytest.raises(ImportRejected) as exc:
        parse_csv(to_csv(table))
    assert "同一时刻不能任命两人" in reasons(exc)[len(table)]


def test_a_chief_term_that_ends_after_a_successor_started_is_refused() -> None:
    table = demo_table() + with_rows(grid_row(人员编号="magang-l3-01-chief-b", 人员姓名="网格长丙99",
                                              任职起始="2025-06-01T00:00:00+08:00"))[1:]
    edit(table, find_row(table, 人员编号="magang-l3-01-chief"), 任职截止="2025-09-01T00:00:00+08:00")
    with pytest.raises(ImportRejected) as exc:
        parse_csv(to_csv(table))
    [reason] = reasons(exc).values()
    assert "与 magang-l3-01-chief-b 自 2025-06-01T00:00:00+08:00 起的任期重叠" in reason


def test_two_open_terms_of_one_role_at_one_place_are_refused() -> None:
    table = demo_table()
    liaison = table[find_row(table, 人员编号="magang-liaison") - 1]
    again = list(liaison)
    again[table[0].index("任职起始")] = "2025-06-01T00:00:00+08:00"
    table.append(again)
    with pytest.raises(ImportRejected) as exc:
        parse_csv(to_csv(table))
    assert "同一职务的任期不能重叠" in reasons(exc)[len(table)]


def test_a_file_for_one_street_may_not_carry_rows_of_another(store) -> None:
    table = demo_table() + with_rows(grid_row(街道编号="other", 街道名称="别的街道", 社区编号="o1", 社区名称="别的社区",
                                              网格编号="o1-l3", 上级网格编号="o1-l2", 人员编号="o-chief"))[1:]
    with pytest.raises(ImportRejected) as exc:
        parse_file(to_csv(table), "csv", roster_view(store.events), street_id="longgang")
    assert "本行属于街道 other，不是本次导入的街道 longgang" in reasons(exc)[len(table)]
    assert store.events.head_position() == 0


def test_a_later_file_may_reassign_a_chief_but_not_move_or_relevel_a_grid(store) -> None:
    import_bytes(store, DEMO.read_bytes())
    created = import_bytes(store, to_csv(with_rows(grid_row(
        人员编号="magang-l3-01-chief-b", 人员姓名="网格长丙11", 联系方式="", 任职起始="2026-03-01T00:00:00+08:00"))))["created"]
    assert created == {**NOTHING, "people": 1, "chief_assignments": 1}
    head = store.events.head_position()
    moved = to_csv(with_rows(grid_row(街道编号="other", 街道名称="别的街道")))
    relevelled = to_csv(with_rows(grid_row(网格层级="2", 上级网格编号="longgang-l1")))
    with pytest.raises(ImportRejected) as exc:
        import_bytes(store, moved)
    assert "社区 magang 已登记在街道 longgang，不能改到街道 other" in reasons(exc)[2]
    with pytest.raises(ImportRejected) as exc:
        import_bytes(store, relevelled)
    assert reasons(exc) == {2: "网格 magang-l3-01 已登记为 3 级网格，不能改为 2 级"}
    assert store.events.head_position() == head


def test_a_later_file_may_end_a_term_but_not_contradict_a_recorded_end(store) -> None:
    import_bytes(store, DEMO.read_bytes())
    ended = with_rows(grid_row(网格编号="magang-l2", 网格名称="马岗社区二级网格", 网格层级="2", 上级网格编号="longgang-l1",
                               人员编号="magang-liaison", 人员姓名="联络员丁01", 人员角色="联络员", 联系方式="",
                               任职截止="2026-01-01T00:00:00+08:00"))
    assert import_bytes(store, to_csv(ended))["created"] == {**NOTHING, "role_endings": 1}
    assert import_bytes(store, to_csv(ended))["created"] == NOTHING
    edit(ended, 2, 任职截止="2026-02-01T00:00:00+08:00")
    with pytest.raises(ImportRejected) as exc:
        import_bytes(store, to_csv(ended))
    assert "已于 2026-01-01T00:00:00+08:00 结束，与任职截止 2026-02-01T00:00:00+08:00 不一致" in reasons(exc)[2]
    # the demo file, which does not say the term ended, changes nothing and is not refused
    assert import_bytes(store, DEMO.read_bytes())["created"] == NOTHING
    view = roster_view(store.events)
    assert [a.person_id for a in view.holders(NOW, role="liaison", community_id="magang")] == []


def test_a_renamed_community_is_recorded_once(store) -> None:
    import_bytes(store, DEMO.read_bytes())
    renamed = to_csv(with_rows(grid_row(社区名称="马岗新社区")))
    assert import_bytes(store, renamed)["created"]["communities"] == 1
    assert import_bytes(store, renamed)["created"]["communities"] == 0
    assert roster_view(store.events).communities["magang"]["name"] == "马岗新社区"


def test_a_renamed_person_keeps_their_main_role_and_phone(store) -> None:
    import_bytes(store, DEMO.read_bytes())
    renamed = with_rows(grid_row(网格编号="magang-l2", 网格名称="马岗社区二级网格", 网格层级="2", 上级网格编号="longgang-l1",
                                 人员编号="magang-secretary", 人员姓名="社区书记庚01新", 人员角色="网格员", 联系方式=""))
    assert import_bytes(store, to_csv(renamed))["created"] == {**NOTHING, "people": 1}
    person = roster_view(store.events).people["magang-secretary"]
    assert (person["name"], person["role"], person["phone"]) == ("社区书记庚01新", "community_secretary", "139-0000-0002")


def test_demo_counts_by_event_type(store) -> None:
    import_bytes(store, DEMO.read_bytes())
    counts = Counter(e.type for e in all_events(store))
    assert counts["roster.chief_assigned"] == 21
    assert counts["roster.unit_sectors_assigned"] == 3
    assert {e.payload.get("valid_from") for e in all_events(store) if "valid_from" in e.payload} == {T0}
