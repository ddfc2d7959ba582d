"""Importing a roster spreadsheet: what a street clerk sees when the file is right or wrong."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest

from fangfei.clock import FrozenClock
from fangfei.testing.stores import memory_store
from services.roster import handlers
from services.roster.facts import ImportRejected
from services.roster.importer import parse_csv
from services.roster.projections import roster_view

from .helpers import DEMO, demo_table, edit, grid_row, to_csv, with_rows

NOW = datetime(2026, 3, 14, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def store():
    return memory_store("roster", FrozenClock(NOW))


def import_file(store, data: bytes) -> dict[str, int]:
    """What the HTTP import does: check against the recorded roster, then record."""
    return handlers.import_roster(store, parse_csv(data, roster_view(store.events)), "clerk-01")


def all_events(store):
    return [e for c in store.events.iter_all() for e in c.events]


def reasons(exc: pytest.ExceptionInfo[ImportRejected]) -> dict[int, str]:
    return {e.row: e.reason for e in exc.value.errors}


def test_demo_file_records_the_whole_street(store) -> None:
    created = import_file(store, DEMO.read_bytes())
    assert created == {"streets": 1, "communities": 10, "grids": 21, "people": 31, "chief_assignments": 21}
    events = all_events(store)
    assert Counter(e.type for e in events)["roster.chief_assigned"] == 21
    assert {e.street_id for e in events} == {"longgang"}
    assert {e.actor for e in events} == {"clerk-01"}
    grid = store.events.read_stream("grid-magang-l3-01")
    assert [e.type for e in grid] == ["roster.grid_registered", "roster.chief_assigned"]
    assert grid[0].payload == {
        "grid_id": "magang-l3-01", "name": "马岗社区第01网格", "level": 3,
        "parent_grid_id": "magang-l2", "community_id": "magang",
    }
    liaison = store.events.read_stream("person-magang-liaison")[0].payload
    assert (liaison["role"], liaison["community_id"]) == ("liaison", "magang")


def test_importing_the_same_file_again_records_nothing(store) -> None:
    import_file(store, DEMO.read_bytes())
    head = store.events.head_position()
    again = import_file(store, DEMO.read_bytes())
    assert set(again.values()) == {0}
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


def test_columns_may_come_in_any_order_and_trailing_empty_cells_may_be_missing() -> None:
    table = demo_table()
    moved = [[row[-1]] + row[:-1] for row in table]  # 任职起始 first
    assert len(parse_csv(to_csv(moved))) == 31
    liaison_only = with_rows(grid_row(网格编号="magang-l2", 网格层级="2", 上级网格编号="longgang-l1",
                                      人员编号="magang-liaison", 人员姓名="联络员丁01", 人员角色="联络员", 任职起始=""))
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
        ({"人员角色": "联络员"}, "任职起始只用于网格长"),
        ({"人员编号": ""}, "人员编号不能为空"),
        ({"人员编号": "张 三"}, "人员编号「张 三」无效"),
        ({"上级网格编号": "magang-l3-01"}, "上级网格不能是网格自身"),
        ({"网格名称": "长" * 101}, "网格名称过长"),
    ],
    ids=["street-grid-with-community", "chief-without-start", "liaison-with-start", "half-a-person",
         "bad-id", "own-parent", "too-long"],
)
def test_a_row_that_contradicts_itself_is_refused(over: dict[str, str], words: str) -> None:
    table = demo_table()
    edit(table, 5, **over)
    with pytest.raises(ImportRejected) as exc:
        parse_csv(to_csv(table))
    assert words in reasons(exc)[5]


@pytest.mark.parametrize(
    "row, over, words",
    [
        (4, {"网格名称": "马岗二级"}, "网格 magang-l2 的名称与第 3 行不一致"),
        (6, {"社区编号": "magang"}, "社区 magang 的名称与第 3 行不一致"),
        (6, {"网格编号": "luogang-l1", "网格层级": "1", "社区编号": "", "社区名称": "", "社区类型": "",
             "上级网格编号": "", "人员编号": "x1", "人员姓名": "甲", "人员角色": "网格员", "任职起始": ""},
         "已有一级网格 longgang-l1"),
        (5, {"上级网格编号": "longgang-l1"}, "3 级网格的上级须为 2 级网格"),
        (5, {"上级网格编号": "luogang-l2"}, "属于社区 luogang，不是本行的社区 magang"),
    ],
    ids=["grid-named-twice", "community-named-twice", "second-street-grid", "skipped-level",
         "other-community"],
)
def test_rows_that_contradict_each_other_are_refused(row: int, over: dict[str, str], words: str) -> None:
    table = demo_table()
    edit(table, row, **over)
    with pytest.raises(ImportRejected) as exc:
        parse_csv(to_csv(table))
    assert words in reasons(exc)[row]


def test_two_chiefs_of_one_grid_from_the_same_instant_are_refused() -> None:
    table = with_rows(grid_row(), grid_row(人员编号="magang-l3-01-chief-b", 人员姓名="网格长丙99"))
    table = demo_table() + table[1:]
    with pytest.raises(ImportRejected) as exc:
        parse_csv(to_csv(table))
    assert "同一时刻不能任命两人" in reasons(exc)[len(table)]


def test_a_later_file_may_reassign_a_chief_but_not_move_or_relevel_a_grid(store) -> None:
    import_file(store, DEMO.read_bytes())
    created = import_file(store, to_csv(with_rows(grid_row(
        人员编号="magang-l3-01-chief-b", 人员姓名="网格长丙11", 任职起始="2026-03-01T00:00:00+08:00"))))
    assert created == {"streets": 0, "communities": 0, "grids": 0, "people": 1, "chief_assignments": 1}
    head = store.events.head_position()
    moved = to_csv(with_rows(grid_row(街道编号="other", 街道名称="别的街道")))
    relevelled = to_csv(with_rows(grid_row(网格层级="2", 上级网格编号="longgang-l1")))
    with pytest.raises(ImportRejected) as exc:
        import_file(store, moved)
    assert "社区 magang 已登记在街道 longgang，不能改到街道 other" in reasons(exc)[2]
    with pytest.raises(ImportRejected) as exc:
        import_file(store, relevelled)
    assert reasons(exc) == {2: "网格 magang-l3-01 已登记为 3 级网格，不能改为 2 级"}
    assert store.events.head_position() == head


def test_a_renamed_community_is_recorded_once(store) -> None:
    import_file(store, DEMO.read_bytes())
    renamed = to_csv(with_rows(grid_row(社区名称="马岗新社区")))
    assert import_file(store, renamed)["communities"] == 1
    assert import_file(store, renamed)["communities"] == 0
    assert roster_view(store.events).communities["magang"]["name"] == "马岗新社区"
