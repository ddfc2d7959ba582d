"""Names for the ids other services' listings carry (a case list names its community and assignee
by id only): looked up once per command in the roster's street tree, with the caller's token.
When the roster cannot be asked, or does not know an id, the id is shown: a table is never held
up by a name."""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from typing import Any, Callable, Iterable, Mapping

ROSTER_URL = "http://127.0.0.1:8102"
# key in a row → key of the name it gets
NAME_KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "street_id": (("street",), "street_name"), "community_id": (("community",), "community_name"),
    "unit_id": (("unit", "community", "street"), "unit_name"),  # a report's unit: a community or the street
    "grid_id": (("grid",), "grid_name"), "current_grid_id": (("grid",), "current_grid_name"),
    "assignee_person_id": (("person",), "assignee_name"), "responsible_person_id": (("person",), "responsible_name"),
    "submitted_by": (("person",), "submitted_by_name"), "by": (("person",), "by_name"),
    "registered_by": (("person",), "registered_by_name"), "recipient_id": (("person",), "recipient_name"),
    "leader_person_id": (("person",), "leader_name"), "person": (("person",), "person_name"),
}


class Names:
    def __init__(self, **maps: Mapping[str, str]) -> None:
        self.maps = {kind: dict(maps.get(kind, {})) for kind in ("street", "community", "unit", "grid", "person")}

    def name(self, kind: str | tuple[str, ...], ident: str) -> str:
        for k in (kind,) if isinstance(kind, str) else kind:
            if self.maps[k].get(ident):
                return self.maps[k][ident]
        return ""

    def enrich(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each row with `<…>_name` added beside the ids it has a name for (names already given win)."""
        out = []
        for row in rows:
            extra = {}
            for key, (kind, name_key) in NAME_KEYS.items():
                value = row.get(key)
                if isinstance(value, str) and value and not row.get(name_key) and self.name(kind, value):
                    extra[name_key] = self.name(kind, value)
            out.append({**row, **extra})
        return out

    @classmethod
    def from_tree(cls, tree: Mapping[str, Any]) -> "Names":
        people: dict[str, str] = {}
        grids: dict[str, str] = {}

        def person(p: Any) -> None:
            if isinstance(p, dict) and p.get("person_id") and p.get("name"):
                people[p["person_id"]] = p["name"]

        def grid(node: Mapping[str, Any]) -> None:
            grids[node["grid_id"]] = node.get("name", "")
            person(node.get("chief"))
            for s in node.get("staff", []):
                person(s)
            for child in node.get("children", []):
                grid(child)

        for root in tree.get("grids", []):
            grid(root)
        communities = {c["community_id"]: c.get("name", "") for c in tree.get("communities", [])}
        for c in tree.get("communities", []):
            for key in ("liaisons", "secretaries", "grid_staff", "volunteers"):
                for p in c.get(key, []):
                    person(p)
        units = {u["unit_id"]: u.get("name", "") for u in tree.get("member_units", [])}
        for u in tree.get("member_units", []):
            for p in u.get("contacts", []):
                person(p)
        for m in (tree.get("leading_group") or {}).get("members", []):
            person(m)
        street = {tree["street_id"]: tree.get("name", "")} if tree.get("street_id") else {}
        return cls(street=street, community=communities, unit=units, grid=grids, person=people)


Lookup = Callable[[str], Names]


def roster_lookup(token: str, url: str | None = None, timeout: float = 5.0) -> Lookup:
    """A function street → Names from the roster (FANGFEI_ROSTER_URL), remembering each street."""
    base = (url or os.environ.get("FANGFEI_ROSTER_URL") or ROSTER_URL).rstrip("/")
    seen: dict[str, Names] = {}

    def lookup(street: str) -> Names:
        if not street:
            return Names()
        if street not in seen:
            req = urllib.request.Request(f"{base}/api/roster/streets/{urllib.parse.quote(street)}/tree",
                                         headers={"Accept": "application/json", "Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    seen[street] = Names.from_tree(json.loads(resp.read()))
            except (OSError, ValueError, KeyError, TypeError):
                seen[street] = Names()
        return seen[street]

    return lookup


def no_lookup(street: str) -> Names:
    return Names()


def with_names(answer: Any, lookup: Lookup, street: str = "") -> Any:
    """A service's answer with names beside its ids: the object itself, the rows of its lists (each
    by its own street) and an assessment's people. The --json output never goes through this."""
    if not isinstance(answer, dict):
        return answer
    street = answer.get("street_id") or street
    out = lookup(street).enrich([answer])[0]
    for key, value in out.items():
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            out[key] = [lookup(r.get("street_id") or street).enrich([r])[0] for r in value]
    if key_people := out.get("people"):
        if isinstance(key_people, dict):
            names = lookup(street)
            out["people"] = {pid: {**row, "person_name": names.name("person", pid)} if isinstance(row, dict) else row
                             for pid, row in key_people.items()}
    return out
