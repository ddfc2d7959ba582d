"""Who is responsible, from this service's own roster copy, at a given instant.

A breach or a missed report is attributed to the person who held the post AT the deadline
(roster history: `Grid.chief_at`), not to whoever holds it when the scanner runs, so a replay
and a late scan name the same person."""

from __future__ import annotations

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


def report_holder(view: RosterView, street_id: str, unit_id: str, unit_kind: str, at: datetime) -> Holder:
    """Who answers for a unit's periodic report at `at`: a community's level-2 chief (falling back
    to the street's level-1 chief when vacant); the street's level-1 chief for street duties."""
    chain = CaseResponsibility(view, street_id, unit_id if unit_kind == "community" else "")
    if unit_kind == "community":
        holder = chain.holder(2, at)
        if holder.person_id:
            return holder
    return chain.holder(1, at)
