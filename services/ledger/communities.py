"""The communities of each street, from roster events: the denominator of 十个一 progress (a
community that recorded nothing yet still counts as not certified) and their Chinese names."""

from __future__ import annotations

from typing import Any

from fangfei.events import Event

from .tables import fetch
from .upserts import Upsert

COLLECTION = "ledger_communities"


def plan(event: Event) -> Upsert:
    p = event.payload
    return Upsert(collection=COLLECTION, doc_id=f"{event.street_id}.{p['community_id']}", stream_id=event.stream_id,
                  version=event.stream_version,
                  set={"street_id": event.street_id, "community_id": p["community_id"], "name": p["name"]})


def names(db: Any, street_id: str) -> dict[str, str]:
    """community id → name, for one street (or all streets when `street_id` is empty)."""
    flt = {"street_id": street_id} if street_id else {}
    return {d["community_id"]: d["name"] for d in fetch(db[COLLECTION], flt)}


def ensure_indexes(db: Any) -> None:
    db[COLLECTION].create_index("street_id")
