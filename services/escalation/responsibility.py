"""Who is responsible, from this service's own roster copy, at a given instant.

A breach or a missed report is attributed to the person who held the post AT the deadline
(roster history: `Grid.chief_at`), not to whoever holds it when the scanner runs, so a replay
and a late scan name the same person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fangfei.roster_view import Grid, RosterView

from .domain.vocabulary import DISTRICT_LEVEL
from .domain.workflow import Holder


class CaseResponsibility:
    """The level-3 → 2 → 1 chain of one case's community (the domain's `Responsibility`)."""

    def __init__(self, view: RosterView, street_id: str, community_id: str, grid_id: str = "") -> None:
        self.view = view
        self.street_id = street_id
        self.community_id = community_id
        self.grid_id = grid_id

    def grid(self, level: int) -> Grid | None:
        view = self.view
        opened = view.grids.get(self.grid_id) if self.grid_id else None
        if opened is not None and opened.level == level:
            return opened
        if level == 3:
            return view.community_grid(self.community_id, 3)
        if level == 2:
            if opened is not None and opened.level == 3 and opened.parent_grid_id in view.grids:
                return view.grids[opened.parent_grid_id]
            return view.community_grid(self.community_id, 2)
        if level == 1:
            return view.street_grid(self.street_id)
        return None

    def holder(self, level: int, at: datetime) -> Holder:
        if level == DISTRICT_LEVEL:
            return Holder("", "")
        grid = self.grid(level)
        return Holder(grid.grid_id, grid.chief_at(at)) if grid is not None else Holder("", "")


@dataclass(frozen=True)
class ReportHolder:
    """Who answers for a periodic report at an instant; `note` (Chinese) says why it is not the
    unit's plain post holder (the community's 联络员, the street's level-1 chief), or that nobody was."""

    grid_id: str
    person_id: str
    note: str = ""


def community_liaison(view: RosterView, community_id: str, at: datetime) -> str:
    """The community's liaison (联络员, seed 001 「确定一名联络员」) at `at`: the one appointed
    longest ago when the roster lists several, "" when none."""
    found = []
    for a in view.holders(at, role="liaison", community_id=community_id):
        starts = [span.start for span in a.spans() if span.start <= at]
        found.append((max(starts) if starts else at, a.person_id))
    return min(found)[1] if found else ""


def report_holder(view: RosterView, street_id: str, unit_id: str, unit_kind: str, at: datetime) -> ReportHolder:
    """Who answers for a unit's periodic report at `at` (its deadline, or its reminder's instant).

    A community's reports (周报 to the 长效办 by Friday 12:00, seed 000 §四(三); the monthly progress,
    seed 004 §四; campaign phases) are the community's own duty, which it discharges through its
    liaison (联络员, seed 001): so its liaison at `at`; without one, the community's level-2 chief
    (二级网格, the community grid, seed 000 §四(二)); then the street's level-1 chief — each fallback
    said in `note`. Street duties (the 15th/30th sweep summary) are the street's level-1 chief's."""
    chain = CaseResponsibility(view, street_id, unit_id if unit_kind == "community" else "")
    notes: list[str] = []
    if unit_kind == "community":
        liaison = community_liaison(view, unit_id, at)
        if liaison:
            return ReportHolder("", liaison)
        name = view.communities.get(unit_id, {}).get("name", unit_id)
        notes.append(f"{name}该时点未设联络员")
        holder = chain.holder(2, at)
        if holder.person_id:
            return ReportHolder(holder.grid_id, holder.person_id, "；".join(notes + ["由二级网格长负责"]))
        notes.append("二级网格长空缺")
    holder = chain.holder(1, at)
    if holder.person_id:
        return ReportHolder(holder.grid_id, holder.person_id, "；".join(notes + ["由一级网格长负责"]) if notes else "")
    notes.append("一级网格长空缺")
    return ReportHolder(holder.grid_id, "", "该时点无人负责（" + "；".join(notes) + "）")
