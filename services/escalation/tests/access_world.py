"""Escalation as the access-control table tries it (tests/contract/test_access_policy.py): the
service in-process behind its real routing, test keys, and in each of two streets one case, one
enterprise and a roster — 龙岗 longgang / 马岗 magang (ours) and 坪山 pingshan / ps-1 (another) —
so every role × route can be tried on both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fangfei.clock import SHANGHAI
from fangfei.events import Event, new_event
from fangfei.testing.wsgi import ServiceApp

from .harness import World as SimulatedWorld
from .support import NOW, clue, full_chain_roster, recorded

OWN_STREET, OWN_COMMUNITY, OWN_CASE, OWN_CODE = "longgang", "magang", "own-c1", "91440300MA5G00001W"
OTHER_STREET, OTHER_COMMUNITY, OTHER_CASE, OTHER_CODE = "pingshan", "ps-1", "oth-c1", "91440300MA5G000020"
FRESH_CODE = "91350100M000100Y43"  # an enterprise neither street knows yet
START = datetime(2026, 3, 16, 10, 0, tzinfo=SHANGHAI)


def pingshan_roster() -> list[Event]:
    """坪山 pingshan: one community ps-1 with a staffed level-3 grid."""
    def ev(type_: str, stream_id: str, payload: dict[str, Any], version: int = 1) -> Event:
        return recorded(new_event(type_, stream_id, OTHER_STREET, payload, actor="office-pingshan", occurred_at=NOW),
                        version)

    since = "2026-01-01T00:00:00+08:00"
    return [
        ev("roster.street_registered", "street-pingshan", {"street_id": OTHER_STREET, "name": "坪山街道"}),
        ev("roster.community_registered", "community-ps-1", {"community_id": OTHER_COMMUNITY, "name": "坪山一社区",
                                                            "kind": "community"}),
        ev("roster.grid_registered", "grid-g1-pingshan", {"grid_id": "g1-pingshan", "name": "坪山一级网格", "level": 1,
                                                          "parent_grid_id": "", "community_id": ""}),
        ev("roster.grid_registered", "grid-g2-ps-1", {"grid_id": "g2-ps-1", "name": "坪山一社区二级网格", "level": 2,
                                                      "parent_grid_id": "g1-pingshan", "community_id": OTHER_COMMUNITY}),
        ev("roster.grid_registered", "grid-g3-ps-1-01", {"grid_id": "g3-ps-1-01", "name": "坪山一社区第一网格", "level": 3,
                                                         "parent_grid_id": "g2-ps-1", "community_id": OTHER_COMMUNITY}),
        ev("roster.person_registered", "person-p-ps-01", {"person_id": "p-ps-01", "name": "孙网格01",
                                                          "role": "grid_chief", "community_id": OTHER_COMMUNITY}),
        ev("roster.chief_assigned", "grid-g3-ps-1-01", {"grid_id": "g3-ps-1-01", "person_id": "p-ps-01",
                                                        "valid_from": since}, 2),
    ]


class EscalationWorld:
    """`app`, `mint`, `store`, `own`/`other` and `records()`, as the contract test's worlds have."""

    def __init__(self) -> None:
        self.sim = SimulatedWorld(START, roster=full_chain_roster() + pingshan_roster())
        self.store, self.mint = self.sim.store, self.sim.mint
        self.sim.svc.open_case(clue(OWN_CASE, found_at="2026-03-16T09:00:00+08:00", credit_code=OWN_CODE))
        self.sim.svc.open_case(clue(OTHER_CASE, community_id=OTHER_COMMUNITY, street_id=OTHER_STREET,
                                    found_at="2026-03-16T09:00:00+08:00", credit_code=OTHER_CODE))
        self.app = ServiceApp(self.sim.svc)
        self.own, self.other = OWN_CASE, OTHER_CASE

    def records(self) -> Any:
        """Everything the service stored (must not change on a refused request): the log's head and
        the size of every read model."""
        db = self.store.db
        return (self.store.events.head_position(),
                {name: db[name].count_documents({}) for name in sorted(db.list_collection_names())})
