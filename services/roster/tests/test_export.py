"""Exporting the lists a street office keeps, and importing them back: the same rows, in CSV and
XLSX, for the demo street and for a generated district of 3 streets, 30 communities and ~1,000
people; a file with bad rows is refused whole, with every reason."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook

from services.roster import exporter
from services.roster.facts import ImportRejected
from services.roster.projections import roster_view

from .helpers import (
    DEMO, all_events, demo_table, district, edit, import_bytes, new_store, read_csv, to_csv,
)

STREETS = ("s01", "s02", "s03")


def export(store, street: str, kind: str = "street", fmt: str = "csv", **kw) -> bytes:
    table = exporter.export_table(roster_view(store.events), street, kind, **kw)
    return exporter.to_csv(table) if fmt == "csv" else exporter.to_xlsx(table, kind)


def xlsx_rows(data: bytes) -> list[list[str]]:
    sheet = load_workbook(BytesIO(data), read_only=True).worksheets[0]
    return [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]


def test_the_demo_file_is_its_own_export() -> None:
    store = new_store()
    import_bytes(store, DEMO.read_bytes())
    assert export(store, "longgang") == DEMO.read_bytes()


@pytest.fixture(scope="module")
def generated() -> list[list[str]]:
    return district()


@pytest.fixture(scope="module")
def district_store(generated):
    store = new_store()
    import_bytes(store, to_csv(generated))
    return store


def test_the_generated_district_is_the_size_the_issue_asks_for(generated) -> None:
    header = generated[0]
    rows = generated[1:]
    assert {r[header.index("街道编号")] for r in rows} == set(STREETS)
    assert len({r[header.index("社区编号")] for r in rows} - {""}) == 30
    assert len({r[header.index("人员编号")] for r in rows} - {""}) == 981


def test_a_district_file_exports_back_to_the_same_rows(generated, district_store) -> None:
    exported = [generated[0]]
    for street in STREETS:
        exported += read_csv(export(district_store, street))[1:]
    assert exported == generated


def test_a_street_of_the_district_round_trips_through_xlsx(generated, district_store) -> None:
    workbook = export(district_store, "s01", fmt="xlsx")
    as_csv = read_csv(export(district_store, "s01"))
    assert xlsx_rows(workbook) == as_csv  # every cell text, exactly as in the CSV
    fresh = new_store()
    import_bytes(fresh, workbook, "xlsx")
    assert read_csv(export(fresh, "s01")) == as_csv == [generated[0]] + [r for r in generated[1:] if r[0] == "s01"]


def test_importing_an_export_changes_nothing(district_store) -> None:
    head = district_store.events.head_position()
    for street in STREETS:
        created = import_bytes(district_store, export(district_store, street))["created"]
        assert set(created.values()) == {0}
    assert district_store.events.head_position() == head


def test_a_file_with_three_bad_rows_is_refused_with_all_three_reasons(generated, district_store) -> None:
    table = [list(r) for r in generated]
    edit(table, 10, 网格层级="4")
    edit(table, 500, 任职起始="2025-13-01T00:00:00+08:00")
    edit(table, 900, 人员角色="队长")
    fresh = new_store()
    with pytest.raises(ImportRejected) as exc:
        import_bytes(fresh, to_csv(table))
    assert [(e.row, e.reason) for e in exc.value.errors] == [
        (10, "网格层级「4」无效：应为 1、2 或 3"),
        (500, "任职起始「2025-13-01T00:00:00+08:00」无效：须为带时区的时间，如 2025-01-01T00:00:00+08:00"),
        (900, "人员角色「队长」无效：应为 网格长、网格员、联络员、志愿者、社区书记、成员单位联系人、领导、处非办工作人员 之一"),
    ]
    assert all_events(fresh) == []
    head = district_store.events.head_position()
    with pytest.raises(ImportRejected):
        import_bytes(district_store, to_csv(table))
    assert district_store.events.head_position() == head  # the recorded roster is untouched too


def test_history_is_exported_with_the_ends_and_handovers(district_store) -> None:
    rows = read_csv(export(district_store, "s01"))
    header = rows[0]

    def cells(person: str) -> tuple[str, str, str]:
        row = next(r for r in rows if r[header.index("人员编号")] == person)
        return row[header.index("人员角色")], row[header.index("任职起始")], row[header.index("任职截止")]

    assert cells("s01-c01-l3-01-chief") == ("网格长", "2025-01-01T00:00:00+08:00", "")  # handed over: no end
    assert cells("s01-c01-l3-01-chief-b") == ("网格长", "2025-07-01T00:00:00+08:00", "")
    assert cells("s01-c01-l3-02-chief") == ("网格长", "2025-01-01T00:00:00+08:00", "2026-01-01T09:30:00+08:00")
    assert cells("s01-c01-l3-01-staff-1") == ("网格员", "2025-01-01T00:00:00+08:00", "2026-01-01T09:30:00+08:00")


def test_an_export_at_an_instant_lists_only_who_held_office_then(district_store) -> None:
    at = datetime(2025, 3, 1, tzinfo=timezone(timedelta(hours=8)))
    rows = read_csv(export(district_store, "s01", at=at))
    people = {r[rows[0].index("人员编号")] for r in rows[1:]}
    assert "s01-c01-l3-01-chief" in people and "s01-c01-l3-01-chief-b" not in people
    later = read_csv(export(district_store, "s01", at=datetime(2026, 2, 1, tzinfo=timezone.utc)))
    people = {r[later[0].index("人员编号")] for r in later[1:]}
    assert "s01-c01-l3-01-chief-b" in people and "s01-c01-l3-02-chief" not in people
    vacant = {r[later[0].index("人员角色")] for r in later[1:] if r[later[0].index("网格编号")] == "s01-c01-l3-02"}
    assert vacant == {"网格员", "志愿者"}  # the vacant grid is listed with its staff, without a chief


# -- 网格员名单 and 领导小组名单 (seed 004 附件2、1) -------------------------------------------------
@pytest.fixture(scope="module")
def demo_store():
    store = new_store()
    import_bytes(store, DEMO.read_bytes())
    return store


def test_the_grid_staff_list_has_one_worker_per_community_like_seed_004(demo_store) -> None:
    rows = read_csv(export(demo_store, "longgang", "grid_staff"))
    assert rows[0] == ["序号", "街道编号", "社区编号", "社区名称", "网格编号", "人员编号", "网格员", "联系方式", "任职起始",
                       "任职截止"]
    assert [(r[0], r[3], r[6]) for r in rows[1:4]] == [
        ("1", "马岗社区", "社区书记庚01"), ("2", "罗岗社区", "社区书记庚02"), ("3", "琥珀社区", "社区书记庚03")]
    assert len(rows) == 11


def test_the_leading_group_list_reads_like_seed_004(demo_store) -> None:
    rows = read_csv(export(demo_store, "longgang", "leading_group"))
    header = rows[0]
    assert header[:4] == ["序号", "街道编号", "领导小组名称", "小组职务"]
    posts = [(r[header.index("小组职务")], r[header.index("单位及职务")]) for r in rows[1:]]
    assert posts[0] == ("组长", "龙岗街道筹备组党委书记")
    assert posts[-1] == ("办公室主任", "公共服务办主任")
    assert ("组员", "马岗社区书记、非法集资网格员") in posts


@pytest.mark.parametrize("kind", ["grid_staff", "leading_group"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_each_list_round_trips_on_its_own(demo_store, kind: str, fmt: str) -> None:
    """A list imported into a roster that has the street (and not the list's people) and
    exported again gives the same rows; importing it into the full roster changes nothing."""
    data = export(demo_store, "longgang", kind, fmt)
    assert set(import_bytes(demo_store, data, fmt)["created"].values()) == {0}
    table = demo_table()
    col = table[0].index
    grids_and_units = [r for r in table[1:] if (r[col("网格编号")] and r[col("人员角色")] == "网格长")
                       or (r[col("成员单位编号")] and not r[col("小组职务")])]
    fresh = new_store()
    import_bytes(fresh, to_csv([table[0]] + grids_and_units))
    assert export(fresh, "longgang", kind) != export(demo_store, "longgang", kind)
    import_bytes(fresh, data, fmt)
    assert export(fresh, "longgang", kind) == export(demo_store, "longgang", kind)


def test_a_list_may_name_a_community_only_by_its_recorded_name(demo_store) -> None:
    table = read_csv(export(demo_store, "longgang", "grid_staff"))
    edit(table, 2, 社区名称="马岗")
    edit(table, 3, 网格编号="magang-l2")
    with pytest.raises(ImportRejected) as exc:
        import_bytes(demo_store, to_csv(table))
    found = {e.row: e.reason for e in exc.value.errors}
    assert found[2] == "社区 magang 的名称是「马岗社区」，不是「马岗」"
    assert found[3] == "网格 magang-l2 属于社区 magang，不是社区 luogang"


def test_a_workbook_with_several_lists_is_checked_as_one_and_names_the_sheet() -> None:
    source = new_store()
    import_bytes(source, DEMO.read_bytes())
    street = exporter.export_table(roster_view(source.events), "longgang", "street")
    header = street[0]
    staff = exporter.export_table(roster_view(source.events), "longgang", "grid_staff")
    workbook = Workbook()
    workbook.active.title = "名册"
    for row in [r for r in street if r[header.index("人员角色")] != "网格员"]:
        workbook["名册"].append(row)
    sheet = workbook.create_sheet("网格员")
    for row in staff:
        sheet.append(row)
    workbook.create_sheet("空白")
    out = BytesIO()
    workbook.save(out)
    fresh = new_store()
    import_bytes(fresh, out.getvalue(), "xlsx")
    assert export(fresh, "longgang") == export(source, "longgang")

    sheet.cell(row=3, column=staff[0].index("任职起始") + 1, value="昨天")
    out = BytesIO()
    workbook.save(out)
    with pytest.raises(ImportRejected) as exc:
        import_bytes(new_store(), out.getvalue(), "xlsx")
    [error] = exc.value.errors
    assert (error.sheet, error.row) == ("网格员", 3)
    assert error.as_dict()["sheet"] == "网格员" and "任职起始「昨天」无效" in error.reason


def test_a_damaged_workbook_is_refused_plainly() -> None:
    with pytest.raises(ImportRejected) as exc:
        import_bytes(new_store(), b"PK\x03\x04 not really a workbook", "xlsx")
    assert exc.value.errors[0].reason == "不是有效的 XLSX 文件"


def test_nothing_in_an_xlsx_export_is_a_formula(demo_store) -> None:
    sheet = load_workbook(BytesIO(export(demo_store, "longgang", fmt="xlsx"))).worksheets[0]
    assert {c.data_type for row in sheet.iter_rows() for c in row if c.value is not None} == {"s"}
