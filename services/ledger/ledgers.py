"""The ledgers this service keeps, and which events feed which read model.

A ledger slots in by adding its projection module (plan functions + queries), one `Ledger`
entry, and its event types in `PROJECTORS`; the service's handlers, HTTP routes, exports and the
rebuild all go through these tables, so live updates and rebuilds cannot disagree on what feeds
what. Besides the ten ledgers, three read models feed the statistics: assessment facts (量化考核),
the roster's communities, and 十个一 items; a fourth, the roster's names (names.py), is what
exports show instead of ids.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable

from marshmallow import Schema

from fangfei.events import Event

from . import assessment, communities, names, projections as clue_verification
from .cases import CASES
from .enterprises import ENTERPRISES
from .labels import CLUE_VERIFICATION_TITLE
from .record_ledgers import (
    AD_CLEANUP,
    ASSET_DISPOSAL,
    EMERGENCY,
    INTERNET_FINANCE,
    PETITION,
    PUBLICITY,
    SUPERVISION,
)
from .schemas import ClueVerificationQuery
from .spec import SpecLedger, record_upsert
from .tables import Column
from .upserts import Upsert, write


@dataclass(frozen=True)
class Ledger:
    key: str  # route key: /api/ledgers/<key>
    title: str  # the ledger's Chinese name, as printed on the form
    collections: tuple[str, ...]  # what a rebuild drops and refills
    query_schema: Callable[[], type[Schema]] | type[Schema]
    columns: Callable[[], list[dict[str, str]]]
    list_rows: Callable[[Any, dict[str, Any]], tuple[list[dict[str, Any]], int]]
    get_row: Callable[[Any, str], dict[str, Any] | None]
    ensure_indexes: Callable[[Any], None]
    export_columns: tuple[Column, ...] = ()  # headers and widths of the exports (default: columns())

    def table_columns(self) -> tuple[Column, ...]:
        return self.export_columns or tuple(Column(c["key"], c["label"], 16) for c in self.columns())

    def schema(self) -> type[Schema]:
        qs = self.query_schema
        return qs if isinstance(qs, type) else qs()


def _from_spec(spec: SpecLedger) -> Ledger:
    return Ledger(spec.key, spec.title, spec.collections, spec.query_schema(), spec.columns, spec.list_rows,
                  spec.get_row, spec.ensure_indexes, spec.columns_spec)


CLUE_VERIFICATION = Ledger(
    key="clue-verification",
    title=CLUE_VERIFICATION_TITLE,
    collections=(clue_verification.COLLECTION,),
    query_schema=ClueVerificationQuery,
    columns=clue_verification.columns,
    list_rows=clue_verification.list_rows,
    get_row=clue_verification.get_row,
    ensure_indexes=clue_verification.ensure_indexes,
)

# The ten, in the order of seed 002 §三(三).
SPECS: tuple[SpecLedger, ...] = (SUPERVISION, ENTERPRISES, INTERNET_FINANCE, PUBLICITY, AD_CLEANUP, CASES,
                                 ASSET_DISPOSAL, PETITION, EMERGENCY)
_ORDER = ("supervision", "risk-enterprises", "clue-verification", "internet-finance", "publicity", "ad-cleanup",
          "case-progress", "asset-disposal", "petition", "emergency")
_ALL = {**{s.key: _from_spec(s) for s in SPECS}, "clue-verification": CLUE_VERIFICATION}
LEDGERS: dict[str, Ledger] = {key: _ALL[key] for key in _ORDER}

TEN_ONES_COLLECTION = "ledger_ten_ones"

# Read models that are not ledgers but are dropped and refilled with them.
SUPPORT_COLLECTIONS: tuple[str, ...] = (assessment.COLLECTION, communities.COLLECTION, TEN_ONES_COLLECTION,
                                        names.COLLECTION)


def _ten_ones(event: Event) -> Upsert:
    return record_upsert(TEN_ONES_COLLECTION, event, extra={"period_date": event.payload["completed_on"]})


def _build_projectors() -> dict[str, tuple[Callable[[Event], Upsert | None], ...]]:
    table: dict[str, list[Callable[[Event], Upsert | None]]] = defaultdict(list)
    table["clue.reported"].append(clue_verification.plan_clue_reported)
    table["case.opened"].append(clue_verification.plan_case_opened)
    for spec in SPECS:
        for event_type, planner in spec.planners.items():
            table[event_type].append(planner)
    for event_type in assessment.FEEDS:
        table[event_type].append(assessment.plan)
    table["roster.community_registered"].append(communities.plan)
    for event_type in names.FEEDS:  # the names exports show instead of ids
        table[event_type].append(names.plan)
    table["ten_ones.item_recorded"].append(_ten_ones)
    return {k: tuple(v) for k, v in table.items()}


# Event type → the projectors it feeds (one event may feed several read models).
PROJECTORS: dict[str, tuple[Callable[[Event], Upsert | None], ...]] = _build_projectors()


def plans_for(event: Event) -> list[Upsert]:
    return [up for plan in PROJECTORS.get(event.type, ()) if (up := plan(event)) is not None]


def apply_event(db: Any, event: Event) -> int:
    """Apply `event` to every read model it feeds; the number of rows it changed (0 on redelivery)."""
    return sum(write(db, up) for up in plans_for(event))


def all_collections() -> tuple[str, ...]:
    return tuple(sorted({c for ledger in LEDGERS.values() for c in ledger.collections} | set(SUPPORT_COLLECTIONS)))


def ensure_indexes(db: Any) -> None:
    for ledger in LEDGERS.values():
        ledger.ensure_indexes(db)
    assessment.ensure_indexes(db)
    communities.ensure_indexes(db)
    names.ensure_indexes(db)
    db[TEN_ONES_COLLECTION].create_index("street_id")
