"""Checks across rows, and against the roster already recorded, before anything is recorded.

A row can be fine on its own and still contradict another row (the same grid named twice
differently) or the recorded roster (a community moved to another street, two chiefs of one grid
from the same instant). These checks keep:
- the grid tree a tree: one level-1 grid per street, every parent exactly one level up, in the same
  street (and, for a level-3 grid, the same community), levels never change, so routing's walk up
  the parents always ends;
- every timeline readable: one chief of a grid per instant, no term of one role at one place
  starting before the previous one ended, an end that agrees with what is recorded;
- every reference resolvable in the row's own street, so one street's file cannot touch another's.

`own_street` is set when the caller may change only that street (a street office, or a change
through the API, which names its street): another street's grids, units and people then read as
"not registered", and an id another street uses as "already used", never naming that street (S1).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields
from datetime import datetime
from typing import Any, Iterable

from fangfei.roster_view import RoleKey, RosterView
from fangfei.vocab import LEADING_GROUP_POSITIONS, PERSON_ROLES

from .cells import show_instant
from .facts import ChiefFact, GridFact, RoleFact, RosterRow, RowError

_LABELS = {
    "name": "名称",
    "kind": "类型",
    "street_id": "所属街道",
    "community_id": "所属社区",
    "level": "层级",
    "parent_grid_id": "上级网格",
    "phone": "联系方式",
    "office_unit_id": "办公室所在单位",
}
_WHAT = {"street": "街道", "community": "社区", "grid": "网格", "unit": "成员单位", "person": "人员"}


def check_consistency(rows: list[RosterRow], known: RosterView, own_street: str | None = None) -> list[RowError]:
    errors: list[RowError] = []
    for check in (_same_everywhere, _refs, _not_moved, _one_street_grid, _parents, _role_places,
                  _chief_timelines, _role_timelines, _sector_timelines):
        found = check(rows, known, own_street) if check in _SCOPED else check(rows, known)
        errors += [RowError(row.row, reason, row.sheet) for row, reason in found]
    return errors


Problem = tuple[RosterRow, str]


_OPTIONAL = {"人员": {"phone"}, "领导小组": {"name", "office_unit_id"}}


def _same_everywhere(rows: list[RosterRow], known: RosterView) -> Iterable[Problem]:
    """A street, community, grid, unit or person repeated on several rows must read the same each
    time; an empty phone or leading-group field is one the row does not speak about."""
    first: dict[tuple[str, str], tuple[RosterRow, Any]] = {}
    for row in rows:
        for what, fact in (("街道", row.street), ("社区", row.community), ("网格", row.grid),
                           ("成员单位", row.unit), ("人员", row.person), ("领导小组", row.group)):
            if fact is None:
                continue
            key = getattr(fact, fields(fact)[0].name)
            seen_row, seen = first.setdefault((what, key), (row, fact))
            optional = _OPTIONAL.get(what, set())
            differ = [
                f.name for f in fields(fact)
                if getattr(fact, f.name) != getattr(seen, f.name)
                and not (f.name in optional and not (getattr(fact, f.name) and getattr(seen, f.name)))
            ]
            if differ:
                diff = "、".join(_LABELS.get(name, name) for name in differ)
                yield row, f"{what} {key} 的{diff}与{seen_row.where}不一致"
            elif optional:
                # remember everything said so far, so a later row is compared with all of it
                merged = type(fact)(**{f.name: getattr(seen, f.name) or getattr(fact, f.name) for f in fields(fact)})
                first[(what, key)] = (seen_row, merged)


class _Registry:
    """What the file registers, by kind and id, with the first row that does."""

    def __init__(self, rows: list[RosterRow]) -> None:
        self.facts: dict[tuple[str, str], Any] = {}
        for row in rows:
            for kind, fact in (("street", row.street), ("community", row.community), ("grid", row.grid),
                               ("unit", row.unit), ("person", row.person)):
                if fact is not None:
                    self.facts.setdefault((kind, getattr(fact, f"{kind}_id")), fact)

    def street_of(self, kind: str, ident: str, known: RosterView) -> str | None:
        """The street `ident` belongs to, from the file or the roster; None if it is nowhere."""
        fact = self.facts.get((kind, ident))
        if fact is not None:
            return str(fact.street_id)
        if kind == "street":
            return ident if ident in known.streets else None
        recorded: Any = {
            "community": known.communities, "grid": known.grids, "unit": known.units, "person": known.people,
        }[kind].get(ident)
        if recorded is None:
            return None
        return str(recorded["street_id"] if isinstance(recorded, dict) else recorded.street_id)

    def grid(self, grid_id: str, known: RosterView) -> GridFact | None:
        fact = self.facts.get(("grid", grid_id))
        if fact is not None:
            return fact  # type: ignore[no-any-return]
        g = known.grids.get(grid_id)
        return GridFact(g.grid_id, g.name, g.level, g.parent_grid_id, g.community_id, g.street_id) if g else None

    def community_name(self, community_id: str, known: RosterView) -> str:
        fact = self.facts.get(("community", community_id))
        return fact.name if fact is not None else str(known.communities.get(community_id, {}).get("name", ""))


def _refs(rows: list[RosterRow], known: RosterView, own: str | None = None) -> Iterable[Problem]:
    registry = _Registry(rows)
    for row in rows:
        for ref in row.refs:
            what = _WHAT[ref.kind]
            owner = registry.street_of(ref.kind, ref.ident, known)
            if owner is None or (own is not None and owner != own):  # another street's looks absent
                yield row, f"{what} {ref.ident} 未登记（本文件和已有名册中都没有）"
            elif owner != ref.street_id:
                yield row, f"{what} {ref.ident} 属于街道 {owner}，不是本行的街道 {ref.street_id}"
            elif ref.kind == "community" and ref.name:
                recorded = registry.community_name(ref.ident, known)
                if recorded != ref.name:
                    yield row, f"社区 {ref.ident} 的名称是「{recorded}」，不是「{ref.name}」"


def _not_moved(rows: list[RosterRow], known: RosterView, own: str | None = None) -> Iterable[Problem]:
    """Moving a recorded community, grid, unit or person to another street, or changing a grid's
    level, is a reorganisation with its own rules, not something an import may do in passing."""
    registry = _Registry([])  # the roster only
    for row in rows:
        for kind, fact in (("community", row.community), ("grid", row.grid), ("unit", row.unit),
                           ("person", row.person)):
            if fact is None:
                continue
            ident = getattr(fact, f"{kind}_id")
            owner = registry.street_of(kind, ident, known)
            if owner is not None and owner != fact.street_id:
                if own is not None and owner != own:
                    yield row, f"{_WHAT[kind]}编号 {ident} 已被其他街道使用，请换一个编号"
                else:
                    yield row, f"{_WHAT[kind]} {ident} 已登记在街道 {owner}，不能改到街道 {fact.street_id}"
        grid = known.grids.get(row.grid.grid_id) if row.grid else None
        if row.grid and grid is not None and grid.level != row.grid.level:
            yield row, f"网格 {grid.grid_id} 已登记为 {grid.level} 级网格，不能改为 {row.grid.level} 级"


def _one_street_grid(rows: list[RosterRow], known: RosterView) -> Iterable[Problem]:
    """Routing falls back to *the* level-1 grid of a street, so there must be exactly one."""
    chosen: dict[str, str] = {}
    for grid in known.grids.values():
        if grid.level == 1:
            chosen.setdefault(grid.street_id, grid.grid_id)
    for row in rows:
        if row.grid is None or row.grid.level != 1:
            continue
        current = chosen.setdefault(row.grid.street_id, row.grid.grid_id)
        if current != row.grid.grid_id:
            yield row, f"街道 {row.grid.street_id} 已有一级网格 {current}，一个街道只能有一个一级网格"


def _parents(rows: list[RosterRow], known: RosterView, own: str | None = None) -> Iterable[Problem]:
    registry = _Registry(rows)
    for row in rows:
        grid = row.grid
        if grid is None or grid.level == 1:
            continue
        parent = registry.grid(grid.parent_grid_id, known)
        if parent is None or (own is not None and parent.street_id != own):
            yield row, f"上级网格 {grid.parent_grid_id} 未登记（本文件和已有名册中都没有）"
        elif parent.level != grid.level - 1:
            yield row, (f"上级网格 {parent.grid_id} 是 {parent.level} 级网格，"
                        f"{grid.level} 级网格的上级须为 {grid.level - 1} 级网格")
        elif parent.street_id != grid.street_id:
            yield row, f"上级网格 {parent.grid_id} 属于街道 {parent.street_id}，不是本行的街道 {grid.street_id}"
        elif grid.level == 3 and parent.community_id != grid.community_id:
            yield row, f"上级网格 {parent.grid_id} 属于社区 {parent.community_id}，不是本行的社区 {grid.community_id}"


_SCOPED = (_refs, _not_moved, _parents)  # the checks that could name another street's data


def _role_places(rows: list[RosterRow], known: RosterView) -> Iterable[Problem]:
    """A role held on a grid is held in that grid's community."""
    registry = _Registry(rows)
    for row in rows:
        role = row.role
        if role is None or not role.grid_id:
            continue
        grid = registry.grid(role.grid_id, known)
        if grid is not None and grid.street_id == role.street_id and grid.community_id != role.community_id:
            # (another street's grid is refused by _refs, without naming its community)
            yield row, f"网格 {role.grid_id} 属于社区 {grid.community_id or '（街道）'}，不是社区 {role.community_id}"


def _chief_timelines(rows: list[RosterRow], known: RosterView) -> Iterable[Problem]:
    """One chief per grid per instant; a term that ends (任职截止) must not swallow someone
    else's start, and must end where the roster says it ended, if it says so."""
    starts: dict[tuple[str, datetime], tuple[str, str]] = {}  # (grid, instant) → (person, where)
    for grid in known.grids.values():
        for at, person_id in grid.chiefs:
            if person_id:
                starts.setdefault((grid.grid_id, at), (person_id, "已有名册"))
    chiefs: list[tuple[RosterRow, ChiefFact]] = [(r, r.chief) for r in rows if r.chief is not None]
    for row, chief in chiefs:
        person_id, where = starts.setdefault((chief.grid_id, chief.valid_from), (chief.person_id, row.where))
        if person_id != chief.person_id:
            yield row, (f"网格 {chief.grid_id} 自 {show_instant(chief.valid_from)} 起的网格长已由{where}定为 "
                        f"{person_id}，同一时刻不能任命两人")
    by_grid: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for (grid_id, at), (person_id, _) in starts.items():
        by_grid[grid_id].append((at, person_id))
    for row, chief in chiefs:
        until = chief.valid_until
        if until is None:
            continue
        for at, other in sorted(by_grid[chief.grid_id]):
            if chief.valid_from < at < until and other != chief.person_id:
                yield row, (f"网格长 {chief.person_id} 的任期（至 {show_instant(until)}）与 {other} "
                            f"自 {show_instant(at)} 起的任期重叠")
                break
        grid = known.grids.get(chief.grid_id)
        ended = next((t for t in grid.terms() if (t.person_id, t.start) == (chief.person_id, chief.valid_from)),
                     None) if grid else None
        if ended is not None and ended.vacated and ended.end != until:
            yield row, (f"网格长 {chief.person_id} 自 {show_instant(chief.valid_from)} 起的任期已于 "
                        f"{show_instant(ended.end)} 结束，与任职截止 {show_instant(until)} 不一致")  # type: ignore[arg-type]
    for row in rows:
        if row.vacancy is None:
            continue
        taken = starts.get((row.vacancy.grid_id, row.vacancy.valid_from))
        if taken is not None:
            yield row, (f"网格 {row.vacancy.grid_id} 自 {show_instant(row.vacancy.valid_from)} 起已任命 "
                        f"{taken[0]} 为网格长，同一时刻不能又空缺")


def _role_timelines(rows: list[RosterRow], known: RosterView) -> Iterable[Problem]:
    """The terms of one role of one person at one place must follow each other: a term that
    starts while the previous one is still running is refused, as is an end (任职截止) that
    contradicts the recorded one or another row's."""
    said: dict[tuple[RoleKey, datetime], tuple[RosterRow, RoleFact]] = {}
    for row in rows:
        role = row.role
        if role is None:
            continue
        seen_row, seen = said.setdefault((role.key, role.valid_from), (row, role))
        if seen is role:
            continue
        if None not in (seen.valid_until, role.valid_until) and seen.valid_until != role.valid_until:
            yield row, f"{_role_label(role.key)}的任职截止与{seen_row.where}不一致"
        elif None not in (seen.title, role.title) and seen.title != role.title:
            yield row, f"{_role_label(role.key)}的单位及职务与{seen_row.where}不一致"
        elif seen.valid_until is None and role.valid_until is not None:
            said[(role.key, role.valid_from)] = (row, role)  # the row that ends it speaks for the term
    # every term of every key touched: start → (end, the file row saying so or None if recorded)
    terms: dict[RoleKey, dict[datetime, tuple[datetime | None, RosterRow | None]]] = defaultdict(dict)
    touched = {key for key, _ in said}
    for key in touched:
        recorded = known.assignments.get(key)
        for span in recorded.spans() if recorded else []:
            terms[key][span.start] = (span.end, None)
    for (key, start), (row, role) in said.items():
        recorded_end = terms[key].get(start, (None, None))[0]
        if None not in (recorded_end, role.valid_until) and recorded_end != role.valid_until:
            yield row, (f"{_role_label(key)}自 {show_instant(start)} 起的任职已于 {show_instant(recorded_end)} "  # type: ignore[arg-type]
                        f"结束，与任职截止 {show_instant(role.valid_until)} 不一致")  # type: ignore[arg-type]
            continue
        terms[key][start] = (role.valid_until or recorded_end, row)
    for key, by_start in terms.items():
        ordered = sorted(by_start.items())
        for (start, (end, row)), (next_start, (_, next_row)) in zip(ordered, ordered[1:]):
            culprit = next_row or row
            if culprit is not None and (end is None or end > next_start):
                yield culprit, (f"{_role_label(key)}自 {show_instant(start)} 起的任职未在 "
                                f"{show_instant(next_start)} 之前结束，同一职务的任期不能重叠")


def _sector_timelines(rows: list[RosterRow], known: RosterView) -> Iterable[Problem]:
    said: dict[tuple[str, datetime], tuple[RosterRow, tuple[str, ...]]] = {}
    for row in rows:
        s = row.sectors
        if s is None:
            continue
        seen_row, sectors = said.setdefault((s.unit_id, s.valid_from), (row, s.sectors))
        if sectors != s.sectors:
            yield row, f"成员单位 {s.unit_id} 自 {show_instant(s.valid_from)} 起的负责行业与{seen_row.where}不一致"


def _role_label(key: RoleKey) -> str:
    """人员 p-01（网格 magang-l3-01 网格员）, 人员 lg-01（领导小组组长）"""
    person_id, role, community_id, grid_id, unit_id, position = key
    if position:
        return f"人员 {person_id}（领导小组{LEADING_GROUP_POSITIONS.get(position, position)}）"
    place = (f"网格 {grid_id} " if grid_id else f"成员单位 {unit_id} " if unit_id
             else f"社区 {community_id} " if community_id else "")
    return f"人员 {person_id}（{place}{PERSON_ROLES.get(role, role)}）"
