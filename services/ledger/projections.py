"""Ledger 3, 非法集资举报线索核查台账 (clue verification): one row per clue.

Fed by two streams on two topics, `clue-<id>` (intake) and `case-<id>` (escalation), so rows are
built from whichever arrives first (see upserts.py for why every write is one guarded upsert).
Who owns which field, so the order of arrival never changes the result:

- clue.reported owns the clue's own facts and `$set`s them, including street, community and
  found_at;
- case.opened owns the case fields and only `$setOnInsert`s street, community and found_at, so a
  row it creates is filterable at once, and the clue's own values win whenever they arrive;
- status is a rank kept with `$max`: reported (10) < routed (20); it never moves back.

Assumes one case per clue (escalation opens exactly one); a second case of the same clue would
overwrite the first's fields in arrival order.
"""

from __future__ import annotations

from typing import Any

from fangfei.events import Event

from .labels import (
    CATEGORY_LABELS,
    CLUE_STATUS_LABELS,
    CLUE_STATUS_RANKS,
    CLUE_VERIFICATION_COLUMNS,
    LEVEL_LABELS,
    SOURCE_LABELS,
)
from .tables import fetch, utc
from .upserts import APPLIED, Upsert, write

COLLECTION = "ledger_clue_verification"

# Fields a row shows; a row that so far knows only one of its streams has the others as None.
_STORED_FIELDS = (
    "street_id", "community_id", "category", "source", "title", "subject_name", "credit_code", "address",
    "found_at", "reported_at", "case_id", "grid_id", "level", "assignee_person_id", "register_deadline",
    "routing_note", "routed_at",
)
_STATUS_BY_RANK = {rank: status for status, rank in CLUE_STATUS_RANKS.items()}


_utc = utc  # instants stored in one form (UTC, ms, Z) so they sort as strings across offsets


# -- projectors: event → Upsert ------------------------------------------------------------------
def plan_clue_reported(event: Event) -> Upsert:
    p = event.payload
    return Upsert(
        collection=COLLECTION,
        doc_id=p["clue_id"],
        stream_id=event.stream_id,
        version=event.stream_version,
        set={
            "street_id": event.street_id,
            "community_id": p["community_id"],
            "category": p["category"],
            "source": p["source"],
            "title": p["title"],
            "subject_name": p.get("subject_name", ""),
            "credit_code": p.get("credit_code", ""),
            "address": p.get("address", ""),
            "found_at": _utc(p["found_at"]),
            "reported_at": event.recorded_at,
        },
        max={"status_rank": CLUE_STATUS_RANKS["reported"]},
    )


def plan_case_opened(event: Event) -> Upsert:
    p = event.payload
    return Upsert(
        collection=COLLECTION,
        doc_id=p["clue_id"],
        stream_id=event.stream_id,
        version=event.stream_version,
        set={
            "case_id": p["case_id"],
            "grid_id": p.get("grid_id", ""),
            "level": p["level"],
            "assignee_person_id": p.get("assignee_person_id", ""),
            "register_deadline": _utc(p["register_deadline"]),
            "routing_note": p.get("routing_note", ""),
            "routed_at": event.recorded_at,
        },
        set_on_insert={
            "street_id": event.street_id,
            "community_id": p["community_id"],
            "found_at": _utc(p["found_at"]),
        },
        max={"status_rank": CLUE_STATUS_RANKS["routed"]},
    )


def apply_clue_reported(db: Any, event: Event) -> bool:
    """Record a reported clue in its row; False if this delivery was already applied."""
    return write(db, plan_clue_reported(event))


def apply_case_opened(db: Any, event: Event) -> bool:
    """Record the case opened for a clue in the clue's row; False if already applied."""
    return write(db, plan_case_opened(event))


# -- queries ---------------------------------------------------------------------------------
def ensure_indexes(db: Any) -> None:
    """Equality lookups by street (and community): litemongo scans only on range queries."""
    col = db[COLLECTION]
    col.create_index("street_id")
    col.create_index([("street_id", 1), ("community_id", 1)])


def to_row(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document as a user sees it: codes with their Chinese labels, no internals."""
    row: dict[str, Any] = {"clue_id": doc["_id"]}
    row.update({name: doc.get(name) for name in _STORED_FIELDS})
    status = _STATUS_BY_RANK.get(doc.get("status_rank", 0), "")
    row["status"] = status
    row["status_label"] = CLUE_STATUS_LABELS.get(status, "")
    row["category_label"] = CATEGORY_LABELS.get(row["category"] or "", "")
    row["source_label"] = SOURCE_LABELS.get(row["source"] or "", "")
    row["level_label"] = LEVEL_LABELS.get(row["level"], "") if row["level"] is not None else ""
    return row


def columns() -> list[dict[str, str]]:
    return [{"key": key, "label": label} for key, label in CLUE_VERIFICATION_COLUMNS]


def list_rows(db: Any, query: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """One page of a street's rows (newest found first) and the total that match.

    `query` is a loaded ClueVerificationQuery: street_id, optional community_id and status, page
    and page_size already clamped."""
    flt: dict[str, Any] = {"street_id": query["street_id"]}
    if query.get("community_id"):
        flt["community_id"] = query["community_id"]
    if query.get("status"):
        flt["status_rank"] = CLUE_STATUS_RANKS[query["status"]]
    col = db[COLLECTION]
    total = int(col.count_documents(flt))
    docs = fetch(col, flt, [("found_at", -1), ("_id", 1)], query, exclude=(APPLIED,))
    return [to_row(doc) for doc in docs], total


def get_row(db: Any, clue_id: str) -> dict[str, Any] | None:
    doc = db[COLLECTION].find_one({"_id": clue_id}, {APPLIED: 0})
    return to_row(doc) if doc is not None else None
