"""The ledgers this service keeps, and which events feed which ledger.

A ledger slots in by adding its projection module (plan functions + queries), one `Ledger`
entry, and its event types in `PROJECTORS`; the service's handlers, HTTP routes and the rebuild
all go through these two tables, so live updates and rebuilds cannot disagree on what feeds what.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from marshmallow import Schema

from fangfei.events import Event

from . import projections as clue_verification
from .labels import CLUE_VERIFICATION_TITLE
from .schemas import ClueVerificationQuery
from .upserts import Upsert, write


@dataclass(frozen=True)
class Ledger:
    key: str  # route key: /api/ledgers/<key>
    title: str  # the ledger's Chinese name, as printed on the form
    collections: tuple[str, ...]  # what a rebuild drops and refills
    query_schema: type[Schema]
    columns: Callable[[], list[dict[str, str]]]
    list_rows: Callable[[Any, dict[str, Any]], tuple[list[dict[str, Any]], int]]
    get_row: Callable[[Any, str], dict[str, Any] | None]
    ensure_indexes: Callable[[Any], None]


LEDGERS: dict[str, Ledger] = {
    "clue-verification": Ledger(
        key="clue-verification",
        title=CLUE_VERIFICATION_TITLE,
        collections=(clue_verification.COLLECTION,),
        query_schema=ClueVerificationQuery,
        columns=clue_verification.columns,
        list_rows=clue_verification.list_rows,
        get_row=clue_verification.get_row,
        ensure_indexes=clue_verification.ensure_indexes,
    ),
}

# Event type → the projectors it feeds (one event may feed several ledgers).
PROJECTORS: dict[str, tuple[Callable[[Event], Upsert], ...]] = {
    "clue.reported": (clue_verification.plan_clue_reported,),
    "case.opened": (clue_verification.plan_case_opened,),
}


def plans_for(event: Event) -> list[Upsert]:
    return [plan(event) for plan in PROJECTORS.get(event.type, ())]


def apply_event(db: Any, event: Event) -> int:
    """Apply `event` to every ledger it feeds; the number of rows it changed (0 on redelivery)."""
    return sum(write(db, up) for up in plans_for(event))


def ensure_indexes(db: Any) -> None:
    for ledger in LEDGERS.values():
        ledger.ensure_indexes(db)
