"""The names people read instead of ids (issue 13), kept from the roster's events: streets,
communities, grids, member units and people, each with every name the roster gave it and when.

One row per naming event (`_id` = `<stream>@<version>`): a rename is a new row, never an
overwrite, so the rows are the same whatever order the topics deliver them in, and a rebuild
equals live consumption with no field-owner rule to get wrong.

Which name a cell shows (README "Names instead of ids"):
- a person: the name in force at the row's time (the day of the ledger entry), since a work ledger
  is the accountability record of who was responsible then (应发现未发现、应上报未上报 is traced to
  the person, by the name they had); a person the roster named only after the row shows the first
  name the roster gave; a row without a time (a standing list, a total) shows the current name;
- a place (street, community, grid, member unit): its current name: a ledger is filed, filtered
  and totalled by place, so every row of one community, and the statistics row that counts them,
  read the same;
- an id the roster never named: a Chinese placeholder (labels.NAME_PLACEHOLDERS), never the id.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from fangfei.clock import SHANGHAI, to_iso
from fangfei.events import Event

from .labels import NAME_PLACEHOLDERS, TOTAL
from .tables import fetch, utc
from .upserts import Upsert

COLLECTION = "ledger_names"

# event type → (kind, payload field of the id)
_NAMED: dict[str, tuple[str, str]] = {
    "roster.street_registered": ("street", "street_id"),
    "roster.community_registered": ("community", "community_id"),
    "roster.grid_registered": ("grid", "grid_id"),
    "roster.member_unit_registered": ("unit", "unit_id"),
    "roster.person_registered": ("person", "person_id"),
}
FEEDS = tuple(_NAMED)
# Kinds whose ids are unique in the district (the roster keys them so); the others are looked up
# within the row's street.
_DISTRICT_WIDE = ("street", "person")


def plan(event: Event) -> Upsert:
    kind, id_field = _NAMED[event.type]
    p = event.payload
    return Upsert(collection=COLLECTION, doc_id=f"{event.stream_id}@{event.stream_version}",
                  stream_id=event.stream_id, version=event.stream_version,
                  set={"kind": kind, "street_id": event.street_id, "entity_id": p[id_field],
                       "name": p["name"], "valid_from": utc(event.occurred_at), "version": event.stream_version})


def ensure_indexes(db: Any) -> None:
    db[COLLECTION].create_index("kind")


def kind_of(key: str) -> str | None:
    """Which kind of id a row field holds (`assignee_person_id` → person), None if it is no id of
    a named thing (a clue or case number is a record number and stays)."""
    if key in ("street_id", "cross_street_id"):
        return "street"
    if key == "community_id":
        return "community"
    if key == "grid_id":
        return "grid"
    if key.endswith("unit_id"):
        return "unit"
    if key.endswith("person_id"):
        return "person"
    return None


def name_key(key: str) -> str:
    """The field a JSON row carries the name in, beside the id (`assignee_person_id` →
    `assignee_person_name`)."""
    return key[:-3] + "_name" if key.endswith("_id") else key + "_name"


def instant_of(value: Any) -> str | None:
    """A row's time as a stored instant (UTC, `…Z`): an instant as it is, a day (YYYY-MM-DD) as
    its last millisecond in Beijing (a name recorded during that day is in force on it)."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None
        end = datetime.combine(day + timedelta(days=1), time(0), SHANGHAI) - timedelta(milliseconds=1)
        return to_iso(end)
    try:
        return utc(value)
    except ValueError:
        return None


@dataclass
class Names:
    """Every name of every named thing, read once per answer."""

    # (kind, street or "" for district-wide kinds, id) → [(valid_from, name)] in time order
    timelines: dict[tuple[str, str, str], list[tuple[str, str]]] = field(default_factory=dict)

    @classmethod
    def load(cls, db: Any) -> "Names":
        docs = sorted(fetch(db[COLLECTION], {}), key=lambda d: (d["valid_from"], d["version"], d["_id"]))
        names = cls()
        for d in docs:
            street = "" if d["kind"] in _DISTRICT_WIDE else d["street_id"]
            line = names.timelines.setdefault((d["kind"], street, d["entity_id"]), [])
            line.append((d["valid_from"], d["name"]))
        return names

    def name(self, kind: str, ident: str, street_id: str = "", at: str | None = None) -> str:
        """The name of `ident` (see module docstring for which one), or the kind's placeholder."""
        line = self.timelines.get((kind, "" if kind in _DISTRICT_WIDE else street_id, ident))
        if not line:
            return NAME_PLACEHOLDERS[kind]
        if at is None or kind != "person":
            return line[-1][1]
        idx = bisect.bisect_right([t for t, _ in line], at)
        return line[idx - 1][1] if idx else line[0][1]

    def shown(self, key: str, value: Any, street_id: str = "", at: str | None = None) -> Any:
        """What a cell of field `key` shows for `value`: the name for an id, the value itself for a
        field that holds no id, nothing for no id, and a total row's 合计 as it is."""
        kind = kind_of(key)
        if kind is None or value is None or value == "" or value == TOTAL:
            return value
        return self.name(kind, str(value), street_id, at)
