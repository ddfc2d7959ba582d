"""Read a roster spreadsheet (CSV) into checked rows; any bad row rejects the whole file.

The file is what a street office keeps in Excel, so headers are Chinese, columns may come in any
order, trailing empty cells may be missing, and both UTF-8 (with or without BOM) and GB18030 (what
Excel on Chinese Windows saves) are accepted. Every problem is reported with its spreadsheet row
number (the header is row 1) so the clerk can fix them all in one pass. See README.md for the
column list.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Callable, Mapping, Sequence, TypeVar

from fangfei.clock import parse_iso
from fangfei.events.fields import ID_PATTERN
from fangfei.roster_view import RosterView
from fangfei.vocab import COMMUNITY_KINDS, GRID_LEVELS, PERSON_ROLES

from .checks import check_consistency
from .facts import (
    ChiefFact, CommunityFact, GridFact, ImportRejected, PersonFact, RosterRow, RowError, StreetFact,
)

STREET_ID, STREET_NAME = "街道编号", "街道名称"
COMMUNITY_ID, COMMUNITY_NAME, COMMUNITY_KIND = "社区编号", "社区名称", "社区类型"
GRID_ID, GRID_NAME, GRID_LEVEL, PARENT_GRID_ID = "网格编号", "网格名称", "网格层级", "上级网格编号"
PERSON_ID, PERSON_NAME, PERSON_ROLE, VALID_FROM = "人员编号", "人员姓名", "人员角色", "任职起始"

COLUMNS: tuple[str, ...] = (
    STREET_ID, STREET_NAME, COMMUNITY_ID, COMMUNITY_NAME, COMMUNITY_KIND,
    GRID_ID, GRID_NAME, GRID_LEVEL, PARENT_GRID_ID,
    PERSON_ID, PERSON_NAME, PERSON_ROLE, VALID_FROM,
)

CHIEF_ROLE = "grid_chief"
_ID = re.compile(ID_PATTERN)
# Codes and Chinese labels are both accepted, so a clerk can type what the screen shows.
_KINDS = {**{k: k for k in COMMUNITY_KINDS}, **{v: k for k, v in COMMUNITY_KINDS.items()}}
_ROLES = {**{k: k for k in PERSON_ROLES}, **{v: k for k, v in PERSON_ROLES.items()}}
_LEVELS = {
    **{str(n): n for n in GRID_LEVELS},
    **{label: n for n, label in GRID_LEVELS.items()},
    **{label.removesuffix("网格"): n for n, label in GRID_LEVELS.items()},
}


T = TypeVar("T")


class CellError(ValueError):
    """One cell (or combination of cells) of a row is wrong; the message is shown to the user."""


def parse_csv(data: bytes, known: RosterView | None = None) -> list[RosterRow]:
    """Parse and check a whole file; raise ImportRejected listing every bad row.

    `known` is the roster recorded so far: rows may refer to grids already recorded (a later
    import of one community), and may not move a recorded street, community, grid or person."""
    text = _decode(data)
    records = _records(text)
    if not records:
        raise ImportRejected("文件为空：第 1 行须为表头", [RowError(1, "缺少表头")])
    header_row, header = records[0]
    columns = _columns(header_row, header)
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    for number, cells in records[1:]:
        if not any(c.strip() for c in cells):
            continue  # blank spreadsheet rows are harmless
        try:
            rows.append(parse_row(number, _cells_by_column(columns, cells)))
        except CellError as exc:
            errors.append(RowError(number, str(exc)))
    if not rows and not errors:
        raise ImportRejected("文件中没有数据行", [RowError(header_row, "表头之后没有数据行")])
    errors.extend(check_consistency(rows, known or RosterView()))
    if errors:
        raise ImportRejected(f"名册有 {len({e.row for e in errors})} 行有误，未导入任何数据", _merge(errors))
    return rows


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRejected("文件编码无法识别，请另存为 UTF-8 编码的 CSV", [RowError(0, "文件编码无法识别")])


def _records(text: str) -> list[tuple[int, list[str]]]:
    """(row number, cells) of each record; a quoted cell may span lines but is still one row."""
    try:
        return [(n, cells) for n, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1)]
    except csv.Error as exc:
        raise ImportRejected("CSV 格式有误", [RowError(0, f"CSV 格式有误：{exc}")]) from exc


def _columns(row: int, header: Sequence[str]) -> list[str]:
    names = [h.strip() for h in header]
    problems: list[str] = []
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        problems.append("缺少列：" + "、".join(missing))
    unknown = [n for n in names if n and n not in COLUMNS]
    if unknown:
        problems.append("未知列：" + "、".join(unknown))
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        problems.append("列重复：" + "、".join(repeated))
    if problems:
        raise ImportRejected("表头有误，未导入任何数据", [RowError(row, "；".join(problems))])
    return names


def _cells_by_column(columns: Sequence[str], cells: Sequence[str]) -> dict[str, str]:
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns):]):
        raise CellError(f"本行有 {len(cells)} 列，多于表头的 {len(columns)} 列")
    padded = list(cells) + [""] * (len(columns) - len(cells))
    return {name: value.strip() for name, value in zip(columns, padded) if name}


def parse_row(number: int, cells: Mapping[str, str]) -> RosterRow:
    """Check one row on its own and build its facts; CellError lists all of the row's problems."""
    problems: list[str] = []

    def take(column: str, parse: Callable[[str, str], T], required: bool = True) -> T | None:
        value = cells.get(column, "")
        if not value:
            if required:
                problems.append(f"{column}不能为空")
            return None
        try:
            return parse(column, value)
        except CellError as exc:
            problems.append(str(exc))
            return None

    street_id = take(STREET_ID, _ident)
    street_name = take(STREET_NAME, _name(100))
    grid_id = take(GRID_ID, _ident)
    grid_name = take(GRID_NAME, _name(100))
    level = take(GRID_LEVEL, _level)
    at_street = level == 1
    in_community = level in (2, 3)  # an unreadable level says nothing about the other cells
    community_id = take(COMMUNITY_ID, _ident, required=in_community)
    community_name = take(COMMUNITY_NAME, _name(100), required=in_community)
    kind = take(COMMUNITY_KIND, _code(_KINDS), required=in_community)
    parent_id = take(PARENT_GRID_ID, _ident, required=in_community)
    person_given = any(cells.get(c) for c in (PERSON_ID, PERSON_NAME, PERSON_ROLE))
    person_id = take(PERSON_ID, _ident, required=person_given)
    person_name = take(PERSON_NAME, _name(50), required=person_given)
    role = take(PERSON_ROLE, _code(_ROLES), required=person_given)
    valid_from = take(VALID_FROM, _instant, required=role == CHIEF_ROLE)

    if at_street and any(cells.get(c) for c in (COMMUNITY_ID, COMMUNITY_NAME, COMMUNITY_KIND)):
        problems.append("一级网格属于街道：社区编号、社区名称、社区类型须留空")
    if at_street and cells.get(PARENT_GRID_ID):
        problems.append("一级网格没有上级网格：上级网格编号须留空")
    if grid_id and grid_id == parent_id:
        problems.append("上级网格不能是网格自身")
    if cells.get(VALID_FROM) and role is not None and role != CHIEF_ROLE:
        problems.append("任职起始只用于网格长，其他角色须留空")
    if cells.get(VALID_FROM) and not person_given:
        problems.append("填写了任职起始却没有填写人员")
    if problems:
        raise CellError("；".join(problems))

    # No problems means every required cell was read, so the `or` fallbacks below never apply.
    sid = street_id or ""
    street = StreetFact(sid, street_name or "")
    community = None
    if in_community:
        community = CommunityFact(community_id or "", community_name or "", kind or "", sid)
    home = community.community_id if community else ""
    grid = GridFact(grid_id or "", grid_name or "", level or 0, parent_id or "", home, sid)
    person = PersonFact(person_id or "", person_name or "", role or "", home, sid) if person_given else None
    chief = ChiefFact(grid.grid_id, person.person_id, valid_from, sid) if person and valid_from else None
    return RosterRow(number, street, community, grid, person, chief)


def _ident(column: str, value: str) -> str:
    if not _ID.match(value):
        raise CellError(f"{column}「{value}」无效：只能用字母、数字和 _.:-，以字母或数字开头，至多 64 个字符")
    return value


def _name(max_len: int) -> Callable[[str, str], str]:
    def parse(column: str, value: str) -> str:
        if len(value) > max_len:
            raise CellError(f"{column}过长：至多 {max_len} 个字符")
        return value

    return parse


def _code(choices: Mapping[str, str]) -> Callable[[str, str], str]:
    labels = "、".join(k for k in choices if not k.isascii())

    def parse(column: str, value: str) -> str:
        if value not in choices:
            raise CellError(f"{column}「{value}」无效：应为 {labels} 之一")
        return choices[value]

    return parse


def _level(column: str, value: str) -> int:
    if value not in _LEVELS:
        raise CellError(f"{column}「{value}」无效：应为 1、2 或 3")
    return _LEVELS[value]


def _instant(column: str, value: str) -> datetime:
    try:
        return parse_iso(value)
    except ValueError:
        raise CellError(f"{column}「{value}」无效：须为带时区的时间，如 2025-01-01T00:00:00+08:00") from None


def _merge(errors: list[RowError]) -> list[RowError]:
    """One entry per row: a row with several problems gets them joined, in the order found."""
    by_row: dict[int, list[str]] = {}
    for err in errors:
        by_row.setdefault(err.row, []).append(err.reason)
    return [RowError(row, "；".join(reasons)) for row, reasons in sorted(by_row.items())]
