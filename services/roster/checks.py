"""Checks across rows, and against the roster already recorded, before anything is imported.

A row can be fine on its own and still contradict another row (the same grid named twice
differently) or the recorded roster (a community moved to another street). These checks keep the
grid tree a tree: one level-1 grid per street, every parent exactly one level up, in the same
street (and, for a level-3 grid, the same community), and levels never change, so routing's
walk up the parents always ends.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any, Iterable

from fangfei.roster_view import RosterView

from .facts import GridFact, RosterRow, RowError

_LABELS = {
    "name": "名称",
    "kind": "类型",
    "street_id": "所属街道",
    "community_id": "所属社区",
    "level": "层级",
    "parent_grid_id": "上级网格",
    "role": "角色",
}


def check_consistency(rows: list[RosterRow], known: RosterView) -> list[RowError]:
    errors: list[RowError] = []
    errors += _same_everywhere(rows)
    errors += _not_moved(rows, known)
    errors += _one_street_grid(rows, known)
    errors += _parents(rows, known)
    errors += _one_chief_per_instant(rows, known)
    return errors


def _same_everywhere(rows: list[RosterRow]) -> Iterable[RowError]:
    """A street, community, grid or person repeated on several rows must read the same each time."""
    first: dict[tuple[str, str], tuple[int, Any]] = {}
    for row in rows:
        for what, fact, key in (
            ("街道", row.street, row.street.street_id),
            ("社区", row.community, row.community.community_id if row.community else ""),
            ("网格", row.grid, row.grid.grid_id),
            ("人员", row.person, row.person.person_id if row.person else ""),
        ):
            if fact is None:
                continue
            seen = first.setdefault((what, key), (row.row, fact))
            if seen[1] != fact:
                differ = [f.name for f in fields(fact) if getattr(fact, f.name) != getattr(seen[1], f.name)]
                diff = "、".join(_LABELS.get(name, name) for name in differ)
                yield RowError(row.row, f"{what} {key} 的{diff}与第 {seen[0]} 行不一致")


def _not_moved(rows: list[RosterRow], known: RosterView) -> Iterable[RowError]:
    """Moving a recorded community, grid or person to another street, or changing a grid's level,
    is a reorganisation with its own rules, not something an import may do in passing."""
    for row in rows:
        street = row.street.street_id
        if row.community and row.community.community_id in known.communities:
            owner = known.communities[row.community.community_id]["street_id"]
            if owner != street:
                yield RowError(row.row, f"社区 {row.community.community_id} 已登记在街道 {owner}，不能改到街道 {street}")
        grid = known.grids.get(row.grid.grid_id)
        if grid is not None and grid.street_id != street:
            yield RowError(row.row, f"网格 {grid.grid_id} 已登记在街道 {grid.street_id}，不能改到街道 {street}")
        if grid is not None and grid.level != row.grid.level:
            yield RowError(row.row, f"网格 {grid.grid_id} 已登记为 {grid.level} 级网格，不能改为 {row.grid.level} 级")
        if row.person and row.person.person_id in known.people:
            owner = known.people[row.person.person_id]["street_id"]
            if owner != street:
                yield RowError(row.row, f"人员 {row.person.person_id} 已登记在街道 {owner}，不能改到街道 {street}")


def _one_street_grid(rows: list[RosterRow], known: RosterView) -> Iterable[RowError]:
    """Routing falls back to *the* level-1 grid of a street, so there must be exactly one."""
    chosen: dict[str, str] = {}
    for grid in known.grids.values():
        if grid.level == 1:
            chosen.setdefault(grid.street_id, grid.grid_id)
    for row in rows:
        if row.grid.level != 1:
            continue
        current = chosen.setdefault(row.street.street_id, row.grid.grid_id)
        if current != row.grid.grid_id:
            yield RowError(row.row, f"街道 {row.street.street_id} 已有一级网格 {current}，一个街道只能有一个一级网格")


def _parents(rows: list[RosterRow], known: RosterView) -> Iterable[RowError]:
    in_file: dict[str, GridFact] = {}
    for row in rows:
        in_file.setdefault(row.grid.grid_id, row.grid)
    for row in rows:
        grid = row.grid
        if grid.level == 1:
            continue
        parent = in_file.get(grid.parent_grid_id) or _recorded(known, grid.parent_grid_id)
        if parent is None:
            yield RowError(row.row, f"上级网格 {grid.parent_grid_id} 未登记（本文件和已有名册中都没有）")
            continue
        if parent.level != grid.level - 1:
            yield RowError(
                row.row,
                f"上级网格 {parent.grid_id} 是 {parent.level} 级网格，{grid.level} 级网格的上级须为 {grid.level - 1} 级网格",
            )
        elif parent.street_id != grid.street_id:
            yield RowError(row.row, f"上级网格 {parent.grid_id} 属于街道 {parent.street_id}，不是本行的街道 {grid.street_id}")
        elif grid.level == 3 and parent.community_id != grid.community_id:
            yield RowError(
                row.row, f"上级网格 {parent.grid_id} 属于社区 {parent.community_id}，不是本行的社区 {grid.community_id}"
            )


def _recorded(known: RosterView, grid_id: str) -> GridFact | None:
    g = known.grids.get(grid_id)
    return GridFact(g.grid_id, g.name, g.level, g.parent_grid_id, g.community_id, g.street_id) if g else None


def _one_chief_per_instant(rows: list[RosterRow], known: RosterView) -> Iterable[RowError]:
    """Two chiefs of one grid from the same instant would make routing pick one arbitrarily."""
    taken: dict[tuple[str, datetime], tuple[str, str]] = {}  # (grid, instant) → (person, where)
    for grid in known.grids.values():
        for instant, person_id in grid.chiefs:
            taken.setdefault((grid.grid_id, instant), (person_id, "已有名册"))
    for row in rows:
        chief = row.chief
        if chief is None:
            continue
        here = (chief.person_id, f"第 {row.row} 行")
        person_id, where = taken.setdefault((chief.grid_id, chief.valid_from), here)
        if person_id != chief.person_id:
            yield RowError(
                row.row,
                f"网格 {chief.grid_id} 自 {chief.valid_from.isoformat()} 起的网格长已由{where}定为 {person_id}，"
                "同一时刻不能任命两人",
            )
