"""What one roster import row says, as plain facts: the shape shared by the importer (which
builds and checks them) and the handlers (which turn new facts into events).

One row describes one grid and, optionally, one person in one role on that grid; the street and
community the grid belongs to are repeated on every row, so a row can be read on its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StreetFact:
    street_id: str
    name: str


@dataclass(frozen=True)
class CommunityFact:
    community_id: str
    name: str
    kind: str  # a code of fangfei.vocab.COMMUNITY_KINDS
    street_id: str


@dataclass(frozen=True)
class GridFact:
    grid_id: str
    name: str
    level: int  # 1 = the street, 2 = a community, 3 = a patrol grid in a community
    parent_grid_id: str  # empty only at level 1
    community_id: str  # empty only at level 1
    street_id: str


@dataclass(frozen=True)
class PersonFact:
    person_id: str
    name: str
    role: str  # a code of fangfei.vocab.PERSON_ROLES
    community_id: str
    street_id: str


@dataclass(frozen=True)
class ChiefFact:
    """`person_id` heads `grid_id` from `valid_from` on (until a later assignment of the grid)."""

    grid_id: str
    person_id: str
    valid_from: datetime
    street_id: str


@dataclass(frozen=True)
class RosterRow:
    row: int  # spreadsheet row number: the header is row 1
    street: StreetFact
    community: CommunityFact | None
    grid: GridFact
    person: PersonFact | None
    chief: ChiefFact | None


@dataclass(frozen=True)
class RowError:
    row: int  # 0 = the file as a whole (encoding, no header)
    reason: str  # in Chinese: the person fixing the spreadsheet reads it

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "reason": self.reason}


class ImportRejected(ValueError):
    """The file cannot be imported; `errors` lists every bad row. Nothing was recorded."""

    def __init__(self, message: str, errors: list[RowError]) -> None:
        super().__init__(message)
        self.message = message
        self.errors = sorted(errors, key=lambda e: e.row)
