"""A ledger described as data: its collection, columns, which stored field is its date and its
status, and the projectors of the events that feed it.

Nine of the ten ledgers are "one row per record or per case": they differ only in their columns
and their projectors, so they share this one implementation of listing, paging, filtering and
labelling (ledger 3, clue verification, predates it and keeps its own module, projections.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from marshmallow import Schema, fields

from fangfei.events import Event
from fangfei.events.fields import code, ident

from .schemas import MISSING_STREET, LedgerPageQuery
from .tables import Column, columns_json, fetch, scope_filter
from .upserts import APPLIED, Upsert

Planner = Callable[[Event], "Upsert | None"]


@dataclass(frozen=True)
class SpecLedger:
    key: str
    title: str
    collection: str
    columns_spec: tuple[Column, ...]
    planners: Mapping[str, Planner]  # event type → projector
    date_field: str = "period_date"  # YYYY-MM-DD, filtered by period_from/period_to, newest first
    status_field: str | None = None
    statuses: Mapping[str, str] = field(default_factory=dict)  # code → label
    labels: Mapping[str, tuple[str, Mapping[Any, str]]] = field(default_factory=dict)  # column → (field, map)
    derive: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # computed columns

    # -- the Ledger interface (ledgers.Ledger) ----------------------------------------------------
    @property
    def collections(self) -> tuple[str, ...]:
        return (self.collection,)

    def columns(self) -> list[dict[str, str]]:
        return columns_json(self.columns_spec)

    def query_schema(self) -> type[Schema]:
        attrs: dict[str, Any] = {
            "street_id": ident(error_messages={"required": MISSING_STREET}),
            "community_id": ident(required=False),
            "period_from": fields.Date(required=False),
            "period_to": fields.Date(required=False),
        }
        if self.status_field:
            attrs["status"] = code(self.statuses, required=False)
        return type(f"{self.key.title().replace('-', '')}Query", (LedgerPageQuery,), attrs)

    def to_row(self, doc: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {"id": doc["_id"]}
        for column in self.columns_spec:
            if column.key != "id":
                row[column.key] = doc.get(column.key)
        for column_key, (source, mapping) in self.labels.items():
            value = doc.get(source)
            row[column_key] = mapping.get(value, "") if value is not None else ""
        if self.status_field:
            row["status"] = doc.get(self.status_field)
        if self.derive is not None:
            row.update(self.derive(doc))
        return row

    def filter(self, query: Mapping[str, Any]) -> dict[str, Any]:
        flt = scope_filter(query, self.date_field)
        if self.status_field and query.get("status"):
            flt[self.status_field] = query["status"]
        return flt

    def list_rows(self, db: Any, query: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """One page (or, without page_size, all) of the rows that match, newest first."""
        flt = self.filter(query)
        col = db[self.collection]
        total = int(col.count_documents(flt))
        docs = fetch(col, flt, [(self.date_field, -1), ("_id", 1)], query, exclude=(APPLIED,))
        return [self.to_row(doc) for doc in docs], total

    def get_row(self, db: Any, row_id: str) -> dict[str, Any] | None:
        doc = db[self.collection].find_one({"_id": row_id}, {APPLIED: 0})
        return self.to_row(doc) if doc is not None else None

    def ensure_indexes(self, db: Any) -> None:
        col = db[self.collection]
        col.create_index("street_id")
        col.create_index([("street_id", 1), ("community_id", 1)])


def record_upsert(collection: str, event: Event, doc_id: str | None = None, *, drop: Iterable[str] = (),
                  extra: Mapping[str, Any] | None = None) -> Upsert:
    """The common projector of a typed record: the record's own stream owns all its fields, and
    each later version (a progress update) replaces them."""
    p = dict(event.payload)
    for name in ("record_id", *drop):
        p.pop(name, None)
    return Upsert(
        collection=collection,
        doc_id=doc_id or event.payload["record_id"],
        stream_id=event.stream_id,
        version=event.stream_version,
        set={"street_id": event.street_id, **p, **(extra or {}), "updated_at": event.recorded_at},
        set_on_insert={"created_at": event.recorded_at},
    )
