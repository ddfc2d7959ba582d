"""Builders for roster test files: the demo street edited cell by cell like a clerk would, and a
generated district of several streets, written in the canonical order an export uses."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path

from fangfei.clock import FrozenClock
from fangfei.testing.stores import memory_store
from services.roster import handlers, lists as L
from services.roster.projections import roster_view

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo_street.csv"
NOW = datetime(2026, 3, 14, 2, 0, tzinfo=timezone.utc)
T0 = "2025-01-01T00:00:00+08:00"


def new_store():
    return memory_store("roster", FrozenClock(NOW))


def import_bytes(store, data: bytes, fmt: str = "csv", **kw) -> dict:
    """What the HTTP import does: check against the recorded roster, then record."""
    return handlers.import_file(store, roster_view(store.events), data, fmt, "clerk-01", **kw)


def all_events(store):
    return [e for c in store.events.iter_all() for e in c.events]


def demo_table() -> list[list[str]]:
    """The demo file as rows of cells; index 0 is the header (spreadsheet row 1)."""
    return read_csv(DEMO.read_bytes())


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def to_csv(table: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(table)
    return out.getvalue().encode(encoding)


def edit(table: list[list[str]], row: int, **cells: str) -> None:
    """Set cells of spreadsheet row `row` (header = 1) by their Chinese column name."""
    header = table[0]
    for name, value in cells.items():
        table[row - 1][header.index(name)] = value


def find_row(table: list[list[str]], **cells: str) -> int:
    """The spreadsheet row number of the first row with these cells."""
    header = table[0]
    for number, row in enumerate(table[1:], start=2):
        if all(row[header.index(k)] == v for k, v in cells.items()):
            return number
    raise LookupError(cells)


def with_rows(*rows: dict[str, str], columns: tuple[str, ...] = L.STREET_COLUMNS) -> list[list[str]]:
    """A file with the given header and rows (unnamed columns left empty)."""
    return [list(columns)] + [[r.get(c, "") for c in columns] for r in rows]


def grid_row(**over: str) -> dict[str, str]:
    """A level-3 grid row in 马岗社区 with its chief; override any column."""
    row = {
        "街道编号": "longgang", "街道名称": "龙岗街道",
        "社区编号": "magang", "社区名称": "马岗社区", "社区类型": "社区",
        "网格编号": "magang-l3-01", "网格名称": "马岗社区第01网格", "网格层级": "3", "上级网格编号": "magang-l2",
        "人员编号": "magang-l3-01-chief", "人员姓名": "网格长丙01", "人员角色": "网格长",
        "联系方式": "139-0000-0005", "任职起始": T0,
    }
    row.update(over)
    return row


# -- a generated district ------------------------------------------------------------------------
def district(streets: int = 3, communities: int = 10, grids: int = 4, staff: int = 5) -> list[list[str]]:
    """A 街道名册 of `streets` streets with `communities` communities each, `grids` level-3 grids
    per community, with chiefs (some handed over, some vacated), grid staff, liaisons, volunteers,
    secretaries, member units with sectors and contacts, and a leading group: in canonical order.
    Defaults: 3 streets, 30 communities, 981 people."""
    rows: list[dict[str, str]] = []
    phone = iter(range(1, 100_000_000))
    t1 = "2025-07-01T00:00:00+08:00"
    t2 = "2026-01-01T09:30:00+08:00"

    def person(pid: str, name: str, role: str, start: str = T0, until: str = "", title: str = "") -> dict[str, str]:
        return {L.PERSON_ID: pid, L.PERSON_NAME: name, L.PERSON_ROLE: role, L.TITLE: title,
                L.PHONE: _mobile(next(phone)), L.VALID_FROM: start, L.VALID_UNTIL: until}

    for s in range(1, streets + 1):
        sid = f"s{s:02d}"
        base = {L.STREET_ID: sid, L.STREET_NAME: f"测试街道{s:02d}"}
        l1 = {**base, L.GRID_ID: f"{sid}-l1", L.GRID_NAME: f"测试街道{s:02d}一级网格", L.GRID_LEVEL: "1"}
        rows.append({**l1, **person(f"{sid}-l1-chief", f"街道网格长{s:02d}", "网格长")})
        for c in range(1, communities + 1):
            cid = f"{sid}-c{c:02d}"
            kind = "村" if c % 4 == 0 else "社区"
            com = {**base, L.COMMUNITY_ID: cid, L.COMMUNITY_NAME: f"测试{kind}{s:02d}{c:02d}", L.COMMUNITY_KIND: kind}
            l2 = {**com, L.GRID_ID: f"{cid}-l2", L.GRID_NAME: f"{cid}二级网格", L.GRID_LEVEL: "2",
                  L.PARENT_GRID_ID: f"{sid}-l1"}
            rows.append({**l2, **person(f"{cid}-l2-chief", f"社区网格长{s}{c:02d}", "网格长")})
            rows.append({**l2, **person(f"{cid}-liaison", f"联络员{s}{c:02d}", "联络员")})
            rows.append({**l2, **person(f"{cid}-secretary", f"书记{s}{c:02d}", "社区书记", title="社区书记")})
            for g in range(1, grids + 1):
                gid = f"{cid}-l3-{g:02d}"
                l3 = {**com, L.GRID_ID: gid, L.GRID_NAME: f"{cid}第{g:02d}网格", L.GRID_LEVEL: "3",
                      L.PARENT_GRID_ID: f"{cid}-l2"}
                if g == 1:  # handed over at t1
                    rows.append({**l3, **person(f"{gid}-chief", f"网格长{s}{c:02d}{g}", "网格长")})
                    rows.append({**l3, **person(f"{gid}-chief-b", f"接任网格长{s}{c:02d}{g}", "网格长", t1)})
                elif g == 2:  # left vacant at t2
                    rows.append({**l3, **person(f"{gid}-chief", f"网格长{s}{c:02d}{g}", "网格长", until=t2)})
                else:
                    rows.append({**l3, **person(f"{gid}-chief", f"网格长{s}{c:02d}{g}", "网格长")})
                for k in range(1, staff + 1):
                    until = t2 if k == 1 and g == 1 else ""
                    rows.append({**l3, **person(f"{gid}-staff-{k}", f"网格员{s}{c:02d}{g}{k}", "网格员",
                                                until=until)})
                rows.append({**l3, **person(f"{gid}-volunteer", f"志愿者{s}{c:02d}{g}", "志愿者")})
        units = [("ggfw", "公共服务办", "公共服务办", "养老、文化旅游、电子商务、商贸流通、教育培训、医疗美容健康"),
                 ("csgl", "城市管理办", "城市管理办", "农林水产、房地产"),
                 ("pcs", "测试派出所", "派出所", "")]
        group = f"测试街道{s:02d}领导小组"
        for uid, name, kind, sectors in units:
            unit = {**base, L.UNIT_ID: f"{sid}-{uid}", L.UNIT_NAME: name, L.UNIT_KIND: kind,
                    L.OFFICE: "是" if uid == "ggfw" else "", L.GROUP_NAME: group if uid == "ggfw" else ""}
            if sectors:
                rows.append({**unit, L.SECTORS: sectors, L.SECTORS_FROM: T0})
            rows.append({**unit, **person(f"{sid}-{uid}-contact", f"联系人{s}{uid}", "成员单位联系人")})
        member = {**base, L.GROUP_NAME: group}
        rows.append({**member, L.POSITION: "组长", **person(f"{sid}-lg-01", f"组长{s}", "领导", title="街道党委书记")})
        rows.append({**member, L.POSITION: "组员", L.UNIT_ID: f"{sid}-pcs",
                     **person(f"{sid}-lg-02", f"组员{s}", "领导", title="派出所所长")})
        rows.append({**member, L.POSITION: "办公室主任", L.UNIT_ID: f"{sid}-ggfw",
                     **person(f"{sid}-lg-03", f"主任{s}", "处非办工作人员", title="公共服务办主任")})
    return with_rows(*rows)


def _mobile(n: int) -> str:
    """A clearly fake mobile number in the roster's stored form (139-0000-0001, …)."""
    return f"139-{n // 10_000:04d}-{n % 10_000:04d}"
