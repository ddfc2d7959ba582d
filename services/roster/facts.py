"""What one roster row or command says, as plain facts: the shape shared by the readers of files
(which build and check them), the commands, and the handlers (which turn new facts into events).

A row can register things (a street, community, grid, member unit, the leading group, a person),
refer to things that must already exist (`Ref`), and date one thing (a chief's term, a role held,
a unit's sectors, a vacancy). Rows repeat what they refer to, so a row can be read on its own.
"""

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
class UnitFact:
    unit_id: str
    name: str
    kind: str  # a code of fangfei.vocab.MEMBER_UNIT_KINDS
    street_id: str


@dataclass(frozen=True)
class GroupFact:
    """The street's leading group; an empty field is one this row does not speak about."""

    street_id: str
    name: str
    office_unit_id: str


@dataclass(frozen=True)
class PersonFact:
    """A person's name and work phone; an empty phone is one this row does not speak about. The
    person's main role and home community are derived from what they hold (handlers._person)."""

    person_id: str
    name: str
    phone: str
    street_id: str


@dataclass(frozen=True)
class Ref:
    """Something the row refers to that must exist, in the file or on the roster, in `street_id`.
    `kind` is street, community, grid, unit or person; a non-empty `name` must match."""

    kind: str
    ident: str
    street_id: str
    name: str = ""


@dataclass(frozen=True)
class ChiefFact:
    """`person_id` heads `grid_id` from `valid_from` on; with `valid_until`, the grid is vacant
    from then (unless a successor starts at that instant)."""

    grid_id: str
    person_id: str
    valid_from: datetime
    valid_until: datetime | None
    street_id: str


@dataclass(frozen=True)
class VacancyFact:
    grid_id: str
    valid_from: datetime
    street_id: str


@dataclass(frozen=True)
class RoleFact:
    """`person_id` holds `role` at a place (see roster.role_assigned) from `valid_from`, until
    `valid_until` if given (None: this row does not end it)."""

    person_id: str
    role: str
    community_id: str
    grid_id: str
    unit_id: str
    position: str
    title: str | None  # None: the row does not speak about the title (its list has no such column)
    valid_from: datetime
    valid_until: datetime | None
    street_id: str

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        return (self.person_id, self.role, self.community_id, self.grid_id, self.unit_id, self.position)


@dataclass(frozen=True)
class SectorsFact:
    """From `valid_from` on, `unit_id` is responsible for exactly `sectors` (codes, vocab order)."""

    unit_id: str
    sectors: tuple[str, ...]
    valid_from: datetime
    street_id: str


@dataclass(frozen=True)
class RosterRow:
    row: int  # spreadsheet row number: the header is row 1 (0 for a command)
    street_id: str
    sheet: str = ""  # the XLSX sheet the row is on ("" for CSV and commands)
    street: StreetFact | None = None
    community: CommunityFact | None = None
    grid: GridFact | None = None
    unit: UnitFact | None = None
    group: GroupFact | None = None
    person: PersonFact | None = None
    refs: tuple[Ref, ...] = ()
    chief: ChiefFact | None = None
    vacancy: VacancyFact | None = None
    role: RoleFact | None = None
    sectors: SectorsFact | None = None

    @property
    def where(self) -> str:
        """How messages name this row to the person fixing the file."""
        return f"{self.sheet}第 {self.row} 行" if self.sheet else f"第 {self.row} 行"


@dataclass(frozen=True)
class RowError:
    row: int  # 0 = the file as a whole (encoding, no header) or a command
    reason: str  # in Chinese: the person fixing the spreadsheet reads it
    sheet: str = ""

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"row": self.row, "reason": self.reason}
        if self.sheet:
            out["sheet"] = self.sheet
        return out


class ImportRejected(ValueError):
    """The file (or command) cannot be recorded; `errors` lists every bad row. Nothing was recorded."""

    def __init__(self, message: str, errors: list[RowError]) -> None:
        super().__init__(message)
        self.message = message
        self.errors = sorted(errors, key=lambda e: (e.sheet, e.row))


class OutOfStreet(ImportRejected):
    """A street office's file has rows of another street (403): an office loads only its own
    street's roster. The reasons name the rows, never what the other street has recorded."""
