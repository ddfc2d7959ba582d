"""The three lists a street office keeps, as spreadsheet columns, and how one row of each reads.

- 街道名册 (`street`): the whole street, one row per grid, community, member unit or leading-group
  member, plus at most one person in one role there. The walking skeleton's 13 columns are
  required; the others are optional, so files from then still import.
- 网格员名单 (`grid_staff`, seed 004 附件2): the grid staff (网格员) of each community.
- 领导小组名单 (`leading_group`, seed 004 附件1): the leading group's members and posts.

A row is checked on its own here (`parse_row` raises CellError listing all its problems); checks
across rows and against the recorded roster are in checks.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable, Mapping, TypeVar

from fangfei.vocab import (
    COMMUNITY_KINDS, LEADING_GROUP_POSITIONS, MEMBER_UNIT_KINDS, PERSON_ROLES, ROSTER_LISTS,
)

from . import cells
from .cells import CellError
from .facts import (
    ChiefFact, CommunityFact, GridFact, GroupFact, PersonFact, Ref, RoleFact, RosterRow, SectorsFact,
    StreetFact, UnitFact,
)

T = TypeVar("T")

SERIAL = "序号"
STREET_ID, STREET_NAME = "街道编号", "街道名称"
COMMUNITY_ID, COMMUNITY_NAME, COMMUNITY_KIND = "社区编号", "社区名称", "社区类型"
GRID_ID, GRID_NAME, GRID_LEVEL, PARENT_GRID_ID = "网格编号", "网格名称", "网格层级", "上级网格编号"
UNIT_ID, UNIT_NAME, UNIT_KIND = "成员单位编号", "成员单位名称", "单位类型"
SECTORS, SECTORS_FROM = "负责行业", "职责起始"
GROUP_NAME, OFFICE, POSITION = "领导小组名称", "领导小组办公室", "小组职务"
PERSON_ID, PERSON_NAME, PERSON_ROLE, TITLE, PHONE = "人员编号", "人员姓名", "人员角色", "单位及职务", "联系方式"
VALID_FROM, VALID_UNTIL = "任职起始", "任职截止"
STAFF_NAME = "网格员"  # 附件2 names the person's column after the role
MEMBER_NAME = "姓名"  # 附件1

CHIEF_ROLE = "grid_chief"
GRID_ROLES = ("grid_chief", "grid_staff", "liaison", "volunteer", "community_secretary")
COMMUNITY_ROLES = ("grid_staff", "liaison", "volunteer", "community_secretary")
NEEDS_COMMUNITY = ("liaison", "community_secretary")
OFFICE_POSITIONS = ("office_director", "office_staff")

_KINDS = cells.choices(COMMUNITY_KINDS)
_ROLES = cells.choices(PERSON_ROLES)
_UNIT_KINDS = cells.choices(MEMBER_UNIT_KINDS)
_POSITIONS = cells.choices(LEADING_GROUP_POSITIONS)


def role_for_position(position: str) -> str:
    """Who a leading-group post is: the office's people are office staff, the rest leaders."""
    return "office_staff" if position in OFFICE_POSITIONS else "leader"


@dataclass(frozen=True)
class ListFormat:
    kind: str  # a code of vocab.ROSTER_LISTS
    columns: tuple[str, ...]  # every column, in the order exports write them
    required: frozenset[str]
    parse: Callable[[int, Mapping[str, str], str], RosterRow]  # (row number, cells, sheet)

    @property
    def label(self) -> str:
        return ROSTER_LISTS[self.kind]


class _Row:
    """Collects every problem of one row, so the clerk sees them all at once."""

    def __init__(self, cells_: Mapping[str, str]) -> None:
        self.cells = cells_
        self.problems: list[str] = []

    def given(self, *columns: str) -> bool:
        return any(self.cells.get(c) for c in columns)

    def take(self, column: str, parse: Callable[[str, str], T], required: bool = True) -> T | None:
        value = self.cells.get(column, "")
        if not value:
            if required:
                self.problems.append(f"{column}不能为空")
            return None
        try:
            return parse(column, value)
        except CellError as exc:
            self.problems.append(str(exc))
            return None

    def forbid(self, columns: tuple[str, ...], why: str) -> None:
        filled = [c for c in columns if self.cells.get(c)]
        if filled:
            self.problems.append(f"{why}：{'、'.join(filled)}须留空")

    def dates(self, person_given: bool) -> tuple[datetime | None, datetime | None]:
        valid_from = self.take(VALID_FROM, cells.instant, required=person_given)
        valid_until = self.take(VALID_UNTIL, cells.instant, required=False)
        if not person_given and self.given(VALID_FROM, VALID_UNTIL):
            self.problems.append("填写了任职起始或任职截止却没有填写人员")
        if valid_from and valid_until and valid_until <= valid_from:
            self.problems.append("任职截止须晚于任职起始")
        return valid_from, valid_until

    def done(self) -> None:
        if self.problems:
            raise CellError("；".join(self.problems))


# -- 街道名册 ----------------------------------------------------------------------------------
STREET_COLUMNS = (
    STREET_ID, STREET_NAME, COMMUNITY_ID, COMMUNITY_NAME, COMMUNITY_KIND,
    GRID_ID, GRID_NAME, GRID_LEVEL, PARENT_GRID_ID,
    UNIT_ID, UNIT_NAME, UNIT_KIND, SECTORS, SECTORS_FROM, OFFICE, GROUP_NAME, POSITION,
    PERSON_ID, PERSON_NAME, PERSON_ROLE, TITLE, PHONE, VALID_FROM, VALID_UNTIL,
)
STREET_REQUIRED = frozenset((
    STREET_ID, STREET_NAME, COMMUNITY_ID, COMMUNITY_NAME, COMMUNITY_KIND,
    GRID_ID, GRID_NAME, GRID_LEVEL, PARENT_GRID_ID, PERSON_ID, PERSON_NAME, PERSON_ROLE, VALID_FROM,
))
_COMMUNITY_COLS = (COMMUNITY_ID, COMMUNITY_NAME, COMMUNITY_KIND)
_GRID_COLS = (GRID_ID, GRID_NAME, GRID_LEVEL, PARENT_GRID_ID)
_UNIT_COLS = (UNIT_ID, UNIT_NAME, UNIT_KIND, SECTORS, SECTORS_FROM, OFFICE)
_PERSON_COLS = (PERSON_ID, PERSON_NAME, PERSON_ROLE)


def parse_street_row(number: int, cells_: Mapping[str, str], sheet: str = "") -> RosterRow:
    """One row of the 街道名册. Which columns are filled says what the row describes: 小组职务 →
    a leading-group member; 网格… → a grid; 成员单位… → a member unit; 社区… only → a community;
    nothing but the street → the street. A person on the row holds a role there."""
    r = _Row(cells_)
    street_id = r.take(STREET_ID, cells.ident)
    street_name = r.take(STREET_NAME, cells.name(100))
    sid = street_id or ""
    if r.given(POSITION):
        kind = "group"
    elif r.given(*_GRID_COLS):
        kind = "grid"
    elif r.given(*_UNIT_COLS):
        kind = "unit"
    elif r.given(*_COMMUNITY_COLS):
        kind = "community"
    else:
        kind = "street"

    person_given = r.given(*_PERSON_COLS) or kind == "group"
    person_id = r.take(PERSON_ID, cells.ident, required=person_given)
    person_name = r.take(PERSON_NAME, cells.name(50), required=person_given)
    role = r.take(PERSON_ROLE, cells.code(_ROLES), required=person_given and kind != "group")
    title = _title(r)
    phone = r.take(PHONE, cells.phone, required=False) or ""
    if not person_given:
        r.forbid((TITLE, PHONE), "没有填写人员")
    valid_from, valid_until = r.dates(person_given)

    community = grid = unit = group = None
    refs: tuple[Ref, ...] = ()
    sectors = None
    community_id = grid_id = unit_id = position = ""
    if kind == "group":
        r.forbid(_COMMUNITY_COLS + _GRID_COLS + (UNIT_NAME, UNIT_KIND, SECTORS, SECTORS_FROM, OFFICE),
                 "领导小组成员行只写成员单位编号")
        position = r.take(POSITION, cells.code(_POSITIONS)) or ""
        unit_id = r.take(UNIT_ID, cells.ident, required=False) or ""
        group_name = r.take(GROUP_NAME, cells.name(100), required=False) or ""
        group = GroupFact(sid, group_name, "")
        refs = (Ref("unit", unit_id, sid),) if unit_id else ()
        expected = role_for_position(position) if position else None
        if role and expected and role != expected:
            r.problems.append(f"{LEADING_GROUP_POSITIONS[position]}的人员角色须为{PERSON_ROLES[expected]}")
        role = expected
    elif kind == "grid":
        r.forbid(_UNIT_COLS + (GROUP_NAME,), "网格行不写成员单位和领导小组")
        grid_id = r.take(GRID_ID, cells.ident) or ""
        grid_name = r.take(GRID_NAME, cells.name(100))
        level = r.take(GRID_LEVEL, cells.level)
        in_community = level in (2, 3)  # an unreadable level says nothing about the other cells
        community = _community(r, sid, required=in_community)
        parent_id = r.take(PARENT_GRID_ID, cells.ident, required=in_community)
        if level == 1 and r.given(*_COMMUNITY_COLS):
            r.problems.append("一级网格属于街道：社区编号、社区名称、社区类型须留空")
            community = None
        if level == 1 and r.given(PARENT_GRID_ID):
            r.problems.append("一级网格没有上级网格：上级网格编号须留空")
        if grid_id and grid_id == parent_id:
            r.problems.append("上级网格不能是网格自身")
        community_id = community.community_id if community else ""
        grid = GridFact(grid_id, grid_name or "", level or 0, parent_id or "", community_id, sid)
        if role and role not in GRID_ROLES:
            r.problems.append(f"网格行的人员角色须为 {_labels(GRID_ROLES)} 之一")
        if role in NEEDS_COMMUNITY and level == 1:
            r.problems.append(f"{PERSON_ROLES[role]}属于社区，不能登记在一级网格")
    elif kind == "unit":
        r.forbid(_COMMUNITY_COLS, "成员单位行不写社区")
        unit_id = r.take(UNIT_ID, cells.ident) or ""
        unit_name = r.take(UNIT_NAME, cells.name(100))
        unit_kind = r.take(UNIT_KIND, cells.code(_UNIT_KINDS))
        unit = UnitFact(unit_id, unit_name or "", unit_kind or "", sid)
        codes = r.take(SECTORS, cells.sectors, required=False)
        since = r.take(SECTORS_FROM, cells.instant, required=bool(codes))
        if since is not None:
            sectors = SectorsFact(unit_id, codes or (), since, sid)
        is_office = r.take(OFFICE, cells.yes_no, required=False)
        group_name = r.take(GROUP_NAME, cells.name(100), required=False) or ""
        if is_office:
            group = GroupFact(sid, group_name, unit_id)
        elif group_name:
            r.problems.append("领导小组名称只写在领导小组成员行或领导小组办公室所在单位的行")
        if role and role != "member_unit_contact":
            r.problems.append(f"成员单位行的人员角色须为{PERSON_ROLES['member_unit_contact']}")
    elif kind == "community":
        r.forbid((GROUP_NAME,), "社区行不写领导小组")
        community = _community(r, sid, required=True)
        community_id = community.community_id if community else ""
        if role and role not in COMMUNITY_ROLES:
            r.problems.append(f"社区行的人员角色须为 {_labels(COMMUNITY_ROLES)} 之一")
    else:
        r.forbid((GROUP_NAME,), "只有街道的行不写领导小组")
        if person_given:
            r.problems.append("人员须登记在网格、社区、成员单位或领导小组")
    r.done()

    row = RosterRow(number, sid, sheet, StreetFact(sid, street_name or ""), community, grid, unit, group,
                    refs=refs, sectors=sectors)
    if not person_given:
        return row
    assert person_id and person_name and role and valid_from  # no problems: every required cell was read
    person = PersonFact(person_id, person_name, phone, sid)
    if role == CHIEF_ROLE:
        return _with(row, person=person, chief=ChiefFact(grid_id, person_id, valid_from, valid_until, sid))
    fact = RoleFact(person_id, role, community_id, grid_id, unit_id, position, title, valid_from, valid_until, sid)
    return _with(row, person=person, role=fact)


def _title(r: _Row) -> str | None:
    """The 单位及职务 cell; None when the file has no such column (it says nothing about titles)."""
    if TITLE not in r.cells:
        return None
    return r.take(TITLE, cells.name(100), required=False) or ""


def _community(r: _Row, street_id: str, required: bool) -> CommunityFact | None:
    community_id = r.take(COMMUNITY_ID, cells.ident, required=required)
    community_name = r.take(COMMUNITY_NAME, cells.name(100), required=required)
    kind = r.take(COMMUNITY_KIND, cells.code(_KINDS), required=required)
    if not required:
        return None
    return CommunityFact(community_id or "", community_name or "", kind or "", street_id)


def _labels(roles: tuple[str, ...]) -> str:
    return "、".join(PERSON_ROLES[r] for r in roles)


def _with(row: RosterRow, **facts: object) -> RosterRow:
    return replace(row, **facts)  # type: ignore[arg-type]


# -- 网格员名单 (附件2) --------------------------------------------------------------------------
GRID_STAFF_COLUMNS = (
    SERIAL, STREET_ID, COMMUNITY_ID, COMMUNITY_NAME, GRID_ID, PERSON_ID, STAFF_NAME, PHONE, VALID_FROM, VALID_UNTIL,
)
GRID_STAFF_REQUIRED = frozenset((STREET_ID, COMMUNITY_ID, COMMUNITY_NAME, PERSON_ID, STAFF_NAME, VALID_FROM))


def parse_grid_staff_row(number: int, cells_: Mapping[str, str], sheet: str = "") -> RosterRow:
    """One grid worker (网格员) of a community, from a date; the street, community and grid must
    be on the roster (or in the same workbook)."""
    r = _Row(cells_)
    r.take(SERIAL, cells.serial, required=False)
    street_id = r.take(STREET_ID, cells.ident) or ""
    community_id = r.take(COMMUNITY_ID, cells.ident) or ""
    community_name = r.take(COMMUNITY_NAME, cells.name(100)) or ""
    grid_id = r.take(GRID_ID, cells.ident, required=False) or ""
    person_id = r.take(PERSON_ID, cells.ident)
    person_name = r.take(STAFF_NAME, cells.name(50))
    phone = r.take(PHONE, cells.phone, required=False) or ""
    valid_from, valid_until = r.dates(True)
    r.done()
    assert person_id and person_name and valid_from
    refs = [Ref("street", street_id, street_id), Ref("community", community_id, street_id, community_name)]
    if grid_id:
        refs.append(Ref("grid", grid_id, street_id))
    return RosterRow(
        number, street_id, sheet, refs=tuple(refs),
        person=PersonFact(person_id, person_name, phone, street_id),
        role=RoleFact(person_id, "grid_staff", community_id, grid_id, "", "", None, valid_from, valid_until, street_id),
    )


# -- 领导小组名单 (附件1) ------------------------------------------------------------------------
LEADING_GROUP_COLUMNS = (
    SERIAL, STREET_ID, GROUP_NAME, POSITION, PERSON_ID, MEMBER_NAME, TITLE, UNIT_ID, PHONE, VALID_FROM, VALID_UNTIL,
)
LEADING_GROUP_REQUIRED = frozenset((STREET_ID, POSITION, PERSON_ID, MEMBER_NAME, VALID_FROM))


def parse_leading_group_row(number: int, cells_: Mapping[str, str], sheet: str = "") -> RosterRow:
    """One member of the street's leading group: post (组长, 副组长, 组员, 办公室主任…), the
    title they hold it by (单位及职务), the member unit they stand for, from a date."""
    r = _Row(cells_)
    r.take(SERIAL, cells.serial, required=False)
    street_id = r.take(STREET_ID, cells.ident) or ""
    group_name = r.take(GROUP_NAME, cells.name(100), required=False) or ""
    position = r.take(POSITION, cells.code(_POSITIONS)) or ""
    person_id = r.take(PERSON_ID, cells.ident)
    person_name = r.take(MEMBER_NAME, cells.name(50))
    title = _title(r)
    unit_id = r.take(UNIT_ID, cells.ident, required=False) or ""
    phone = r.take(PHONE, cells.phone, required=False) or ""
    valid_from, valid_until = r.dates(True)
    r.done()
    assert person_id and person_name and valid_from
    refs = [Ref("street", street_id, street_id)]
    if unit_id:
        refs.append(Ref("unit", unit_id, street_id))
    role = RoleFact(person_id, role_for_position(position), "", "", unit_id, position, title, valid_from,
                    valid_until, street_id)
    return RosterRow(
        number, street_id, sheet, group=GroupFact(street_id, group_name, ""), refs=tuple(refs),
        person=PersonFact(person_id, person_name, phone, street_id), role=role,
    )


FORMATS: dict[str, ListFormat] = {
    "street": ListFormat("street", STREET_COLUMNS, STREET_REQUIRED, parse_street_row),
    "grid_staff": ListFormat("grid_staff", GRID_STAFF_COLUMNS, GRID_STAFF_REQUIRED, parse_grid_staff_row),
    "leading_group": ListFormat("leading_group", LEADING_GROUP_COLUMNS, LEADING_GROUP_REQUIRED,
                                parse_leading_group_row),
}


def detect(header: list[str]) -> ListFormat | None:
    """Which list a header belongs to, by the column only that list has."""
    names = set(header)
    if GRID_LEVEL in names:
        return FORMATS["street"]
    if STAFF_NAME in names:
        return FORMATS["grid_staff"]
    if POSITION in names:
        return FORMATS["leading_group"]
    return None
