"""The names people read instead of ids: streets, communities, grids, people and member units.

The console keeps no data, so the names come from the roster's tree of the street a page shows
(`GET /api/roster/streets/<id>/tree`, asked with the person's own token, so the roster's access
control applies). An id the tree does not name is shown as a Chinese placeholder, never as the id:
an office reads 龙岗街道 and 马岗社区, not `longgang` and `magang`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

PLACEHOLDERS = {"street": "（街道名称未知）", "community": "（社区名称未知）", "grid": "（网格名称未知）",
                "person": "（人员姓名未知）", "unit": "（单位名称未知）"}
TOTAL = "合计"  # the ledger's total row stands where a community would


@dataclass
class Names:
    streets: dict[str, str] = field(default_factory=dict)
    communities: dict[str, str] = field(default_factory=dict)
    grids: dict[str, str] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_tree(cls, tree: Mapping[str, Any] | None) -> "Names":
        """The names in a roster tree answer (an unusable answer names nothing)."""
        names = cls()
        if not isinstance(tree, Mapping):
            return names
        if tree.get("street_id") and tree.get("name"):
            names.streets[str(tree["street_id"])] = str(tree["name"])
        for c in tree.get("communities") or []:
            names._add(names.communities, c.get("community_id"), c.get("name"))
            for role in ("liaisons", "secretaries", "grid_staff", "volunteers"):
                names._people(c.get(role) or [])
        stack = list(tree.get("grids") or [])
        while stack:
            g = stack.pop()
            names._add(names.grids, g.get("grid_id"), g.get("name"))
            names._people([g.get("chief")] + list(g.get("staff") or []))
            stack.extend(g.get("children") or [])
        for u in tree.get("member_units") or []:
            names._add(names.units, u.get("unit_id"), u.get("name"))
            names._people(u.get("contacts") or [])
        group = tree.get("leading_group") or {}
        names._add(names.units, group.get("office_unit_id"), group.get("office_unit_name"))
        names._people(group.get("members") or [])
        return names

    @staticmethod
    def _add(table: dict[str, str], key: Any, name: Any) -> None:
        if key and name:
            table[str(key)] = str(name)

    def _people(self, people: Iterable[Mapping[str, Any] | None]) -> None:
        for p in people:
            if p:
                self._add(self.people, p.get("person_id"), p.get("name"))

    # -- lookups: the name, a placeholder for an unknown id, — for none ---------------------------
    def _name(self, table: Mapping[str, str], kind: str, key: Any) -> str:
        if key is None or key == "":
            return "—"
        return table.get(str(key)) or PLACEHOLDERS[kind]

    def street(self, key: Any) -> str:
        return self._name(self.streets, "street", key)

    def community(self, key: Any) -> str:
        if key == TOTAL:
            return TOTAL
        return self._name(self.communities, "community", key)

    def grid(self, key: Any) -> str:
        return self._name(self.grids, "grid", key)

    def person(self, key: Any) -> str:
        return self._name(self.people, "person", key)

    def unit(self, key: Any) -> str:
        return self._name(self.units, "unit", key)

    def of_key(self, key: str, value: Any) -> str | None:
        """The name for a listing's column `key` holding `value`, or None if it is no id column."""
        if key in ("street_id", "cross_street_id"):
            return self.street(value)
        if key == "community_id":
            return self.community(value)
        if key == "grid_id":
            return self.grid(value)
        if key.endswith("person_id") or key in ("recipient_id", "actor", "by"):
            return self.person(value)
        if key.endswith("unit_id"):
            return self.unit(value)
        return None


NO_NAMES = Names()
