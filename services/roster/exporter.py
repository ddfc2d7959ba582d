"""The roster as the lists a street office keeps (lists.py), written as CSV or XLSX.

Exports are in canonical form, so importing an export gives back the same roster and exporting
again gives the same rows:
- 街道名册: the grids in tree order (the level-1 grid, then each level-2 grid followed by its
  level-3 grids, in the order registered); on each grid its chiefs' terms in time order, then the
  other roles by role and person; then community-level roles; then each member unit (its sector
  periods, then its contacts); then the leading group by post and person.
- a chief's 任职截止 is written only when the grid was left vacant (an explicit
  `roster.grid_vacated`); a handover is said by the successor's 任职起始.
- every instant in Beijing time with its offset; sectors by their Chinese names in catalogue order.
Without `at`, every period ever recorded is listed (the history); with `at`, only what held then.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Iterator

from fangfei.roster_view import Assignment, Grid, RosterView, Span
from fangfei.vocab import COMMUNITY_KINDS, LEADING_GROUP_POSITIONS, MEMBER_UNIT_KINDS, PERSON_ROLES

from . import lists as L
from .cells import YES, show_instant, show_sectors
from .queries import POSITION_ORDER, ROLE_ORDER

Row = dict[str, str]


def export_table(
    view: RosterView, street_id: str, kind: str, at: datetime | None = None, community_id: str | None = None,
) -> list[list[str]]:
    """The header and rows of list `kind` for one street; row order as in the module docstring."""
    fmt = L.FORMATS[kind]
    if kind == "street":
        rows = list(_street_rows(view, street_id, at))
    elif kind == "grid_staff":
        rows = list(_grid_staff_rows(view, street_id, at, community_id))
    else:
        rows = list(_leading_group_rows(view, street_id, at))
    if L.SERIAL in fmt.columns:
        for number, row in enumerate(rows, start=1):
            row[L.SERIAL] = str(number)
    return [list(fmt.columns)] + [[row.get(c, "") for c in fmt.columns] for row in rows]


def _held(span: Span, at: datetime | None) -> bool:
    return at is None or (span.start <= at and (span.end is None or at < span.end))


def _spans(a: Assignment, at: datetime | None) -> Iterator[Span]:
    return (s for s in a.spans() if _held(s, at))


def _person_cells(view: RosterView, person_id: str, role: str, start: datetime, end: datetime | None,
                  title: str = "") -> Row:
    p = view.people.get(person_id, {})
    return {
        L.PERSON_ID: person_id, L.PERSON_NAME: p.get("name", ""), L.PERSON_ROLE: PERSON_ROLES.get(role, role),
        L.TITLE: title, L.PHONE: p.get("phone", ""), L.VALID_FROM: show_instant(start),
        L.VALID_UNTIL: show_instant(end) if end else "",
    }


def _tree_order(view: RosterView, street_id: str) -> list[Grid]:
    grids = [g for g in view.grids.values() if g.street_id == street_id]
    ids = {g.grid_id for g in grids}
    children: dict[str, list[Grid]] = {}
    for g in grids:
        children.setdefault(g.parent_grid_id, []).append(g)
    out: list[Grid] = []
    seen: set[str] = set()

    def walk(g: Grid) -> None:
        if g.grid_id in seen:
            return
        seen.add(g.grid_id)
        out.append(g)
        for child in children.get(g.grid_id, []):
            walk(child)

    for root in sorted((g for g in grids if g.parent_grid_id not in ids), key=lambda g: g.level):
        walk(root)
    return out


def _street_rows(view: RosterView, street_id: str, at: datetime | None) -> Iterator[Row]:
    street = view.streets[street_id]
    base = {L.STREET_ID: street_id, L.STREET_NAME: street["name"]}
    mine = [a for a in view.assignments.values() if a.street_id == street_id]
    group = view.groups.get(street_id)
    wrote = False

    def community_cells(community_id: str) -> Row:
        c = view.communities.get(community_id, {})
        return {L.COMMUNITY_ID: community_id, L.COMMUNITY_NAME: c.get("name", ""),
                L.COMMUNITY_KIND: COMMUNITY_KINDS.get(c.get("kind", ""), "")}

    def roles_at(cells: Row, held: list[Assignment]) -> Iterator[Row]:
        for a in sorted(held, key=lambda a: (ROLE_ORDER.get(a.role, 99), a.person_id)):
            for s in _spans(a, at):
                yield {**cells, **_person_cells(view, a.person_id, a.role, s.start, s.end, s.title)}

    for g in _tree_order(view, street_id):
        cells = {**base, **(community_cells(g.community_id) if g.community_id else {}),
                 L.GRID_ID: g.grid_id, L.GRID_NAME: g.name, L.GRID_LEVEL: str(g.level), L.PARENT_GRID_ID: g.parent_grid_id}
        rows = [
            {**cells, **_person_cells(view, t.person_id, L.CHIEF_ROLE, t.start, t.end if t.vacated else None)}
            for t in g.terms() if _held(Span(t.start, t.end, ""), at)
        ]
        rows += roles_at(cells, [a for a in mine if a.grid_id == g.grid_id and not a.position and not a.unit_id])
        yield from rows or [cells]
        wrote = True
    for cid, c in view.communities.items():
        if c["street_id"] != street_id:
            continue
        cells = {**base, **community_cells(cid)}
        rows = list(roles_at(cells, [a for a in mine if a.community_id == cid and not a.grid_id and not a.position
                                     and not a.unit_id]))
        has_grid = any(g.community_id == cid for g in view.grids.values())
        yield from rows or ([] if has_grid else [cells])
        wrote = wrote or bool(rows) or not has_grid
    for u in view.street_units(street_id):
        is_office = group is not None and group.office_unit_id == u.unit_id
        cells = {**base, L.UNIT_ID: u.unit_id, L.UNIT_NAME: u.name, L.UNIT_KIND: MEMBER_UNIT_KINDS.get(u.kind, u.kind),
                 L.OFFICE: YES if is_office else "", L.GROUP_NAME: group.name if group and is_office else ""}
        periods = list(zip(u.sectors, u.sectors[1:] + [(None, ())]))
        rows = [{**cells, L.SECTORS: show_sectors(codes), L.SECTORS_FROM: show_instant(since)}
                for (since, codes), (until, _) in periods if _held(Span(since, until, ""), at)]
        rows += roles_at(cells, [a for a in mine if a.unit_id == u.unit_id and not a.position])
        yield from rows or [cells]
        wrote = True
    members = sorted((a for a in mine if a.position), key=lambda a: (POSITION_ORDER.get(a.position, 99), a.person_id))
    for a in members:
        cells = {**base, L.POSITION: LEADING_GROUP_POSITIONS.get(a.position, a.position),
                 L.GROUP_NAME: group.name if group else "", L.UNIT_ID: a.unit_id}
        for s in _spans(a, at):
            yield {**cells, **_person_cells(view, a.person_id, a.role, s.start, s.end, s.title)}
            wrote = True
    if not wrote:
        yield base


def _grid_staff_rows(view: RosterView, street_id: str, at: datetime | None, community_id: str | None) -> Iterator[Row]:
    order = {cid: i for i, cid in enumerate(view.communities)}
    staff = [a for a in view.assignments.values()
             if a.street_id == street_id and a.role == "grid_staff" and not a.position and not a.unit_id
             and (community_id is None or a.community_id == community_id)]
    staff.sort(key=lambda a: (order.get(a.community_id, len(order)), a.grid_id, a.person_id))
    for a in staff:
        p = view.people.get(a.person_id, {})
        for s in _spans(a, at):
            yield {
                L.STREET_ID: street_id, L.COMMUNITY_ID: a.community_id,
                L.COMMUNITY_NAME: view.communities.get(a.community_id, {}).get("name", ""), L.GRID_ID: a.grid_id,
                L.PERSON_ID: a.person_id, L.STAFF_NAME: p.get("name", ""), L.PHONE: p.get("phone", ""),
                L.VALID_FROM: show_instant(s.start), L.VALID_UNTIL: show_instant(s.end) if s.end else "",
            }


def _leading_group_rows(view: RosterView, street_id: str, at: datetime | None) -> Iterator[Row]:
    group = view.groups.get(street_id)
    members = sorted((a for a in view.assignments.values() if a.street_id == street_id and a.position),
                     key=lambda a: (POSITION_ORDER.get(a.position, 99), a.person_id))
    for a in members:
        p = view.people.get(a.person_id, {})
        for s in _spans(a, at):
            yield {
                L.STREET_ID: street_id, L.GROUP_NAME: group.name if group else "",
                L.POSITION: LEADING_GROUP_POSITIONS.get(a.position, a.position), L.PERSON_ID: a.person_id,
                L.MEMBER_NAME: p.get("name", ""), L.TITLE: s.title, L.UNIT_ID: a.unit_id, L.PHONE: p.get("phone", ""),
                L.VALID_FROM: show_instant(s.start), L.VALID_UNTIL: show_instant(s.end) if s.end else "",
            }


# -- files ---------------------------------------------------------------------------------------
def to_csv(table: list[list[str]]) -> bytes:
    """UTF-8 with a BOM (so Excel on Chinese Windows opens it right) and CRLF line ends."""
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(table)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(table: list[list[str]], sheet_name: str) -> bytes:
    """One sheet, every cell text (ids like 001 and instants stay as written, nothing becomes a
    formula), the header frozen and columns wide enough to read."""
    from openpyxl import Workbook

    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet_name
    for values in table:
        ws.append(values)
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl would store "=…" as a formula
                cell.number_format = "@"
    for column in ws.columns:
        width = max((len(str(c.value or "")) for c in column), default=4)
        ws.column_dimensions[column[0].column_letter].width = min(40, max(6, width * 2))
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
