"""Events as escalation receives them from Kafka: a small synthetic roster and clues.

The roster of street `longgang` (示范街道):
- community `magang` (马岗社区): level-3 grid g3-magang-01 led by 张网格01, under level-2 g2-magang
- village `baihua` (白花村): level-3 grid g3-baihua-01 is vacant, level-2 g2-baihua led by 王社区01
- the street's level-1 grid g1-longgang has no chief unless `with_street_chief` is set.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fangfei.events import Event, new_event

NOW = datetime(2026, 3, 14, 2, 0, tzinfo=timezone.utc)
SINCE = "2026-01-01T00:00:00+08:00"


def recorded(event: Event, version: int = 1) -> Event:
    """The event as the producer's store stamped it (what the consumer decodes from Kafka)."""
    return event.stamped(version, NOW)


def roster_event(type_: str, stream_id: str, payload: dict[str, Any], version: int = 1) -> Event:
    ev = new_event(type_, stream_id, "longgang", payload, actor="user:office01", occurred_at=NOW)
    return recorded(ev, version)


def grid(grid_id: str, name: str, level: int, parent: str = "", community: str = "") -> Event:
    return roster_event(
        "roster.grid_registered", f"grid-{grid_id}",
        {"grid_id": grid_id, "name": name, "level": level, "parent_grid_id": parent,
         "community_id": community},
    )


def chief(grid_id: str, person_id: str, valid_from: str = SINCE) -> Event:
    return roster_event(
        "roster.chief_assigned", f"grid-{grid_id}",
        {"grid_id": grid_id, "person_id": person_id, "valid_from": valid_from}, version=2,
    )


def person(person_id: str, name: str, role: str, community: str = "") -> Event:
    return roster_event(
        "roster.person_registered", f"person-{person_id}",
        {"person_id": person_id, "name": name, "role": role, "community_id": community},
    )


def demo_roster(with_street_chief: bool = False) -> list[Event]:
    events = [
        roster_event("roster.street_registered", "street-longgang",
                     {"street_id": "longgang", "name": "示范街道"}),
        roster_event("roster.community_registered", "community-magang",
                     {"community_id": "magang", "name": "马岗社区", "kind": "community"}),
        roster_event("roster.community_registered", "community-baihua",
                     {"community_id": "baihua", "name": "白花村", "kind": "village"}),
        grid("g1-longgang", "示范街道一级网格", 1),
        grid("g2-magang", "马岗社区二级网格", 2, "g1-longgang", "magang"),
        grid("g3-magang-01", "马岗第一网格", 3, "g2-magang", "magang"),
        grid("g2-baihua", "白花村二级网格", 2, "g1-longgang", "baihua"),
        grid("g3-baihua-01", "白花第一网格", 3, "g2-baihua", "baihua"),
        person("p-zhang01", "张网格01", "grid_chief", "magang"),
        person("p-wang01", "王社区01", "community_secretary", "baihua"),
        person("p-li01", "李街道01", "office_staff"),
        chief("g3-magang-01", "p-zhang01"),
        chief("g2-baihua", "p-wang01"),
    ]
    if with_street_chief:
        events.append(chief("g1-longgang", "p-li01"))
    return events


def clue(clue_id: str = "c0001", community_id: str = "magang", found_at: str = "2026-03-14T09:30:00+08:00",
         street_id: str = "longgang", **extra: Any) -> Event:
    payload = {
        "clue_id": clue_id,
        "community_id": community_id,
        "category": "illegal_finance",
        "source": "grid_patrol",
        "title": "某公司承诺年化18%回报",
        "description": "网格员巡查发现门店宣传保本高息理财产品。",
        "found_at": found_at,
        "reported_by": "p-zhang01",
        **extra,
    }
    ev = new_event("clue.reported", f"clue-{clue_id}", street_id, payload, actor="anonymous", occurred_at=NOW)
    return recorded(ev)


def other_street_roster() -> list[Event]:
    """A second street `xinzhan` with one community `huadu` and a full chain of chiefs."""
    def ev(type_: str, stream_id: str, payload: dict[str, Any]) -> Event:
        e = new_event(type_, stream_id, "xinzhan", payload, actor="user:office02", occurred_at=NOW)
        return recorded(e, 2 if type_ == "roster.chief_assigned" else 1)

    return [
        ev("roster.street_registered", "street-xinzhan", {"street_id": "xinzhan", "name": "新站街道"}),
        ev("roster.community_registered", "community-huadu", {"community_id": "huadu", "name": "华都社区", "kind": "community"}),
        ev("roster.grid_registered", "grid-g1-xinzhan", {"grid_id": "g1-xinzhan", "name": "新站一级网格", "level": 1,
                                                         "parent_grid_id": "", "community_id": ""}),
        ev("roster.grid_registered", "grid-g2-huadu", {"grid_id": "g2-huadu", "name": "华都二级网格", "level": 2,
                                                       "parent_grid_id": "g1-xinzhan", "community_id": "huadu"}),
        ev("roster.grid_registered", "grid-g3-huadu-01", {"grid_id": "g3-huadu-01", "name": "华都第一网格", "level": 3,
                                                          "parent_grid_id": "g2-huadu", "community_id": "huadu"}),
        ev("roster.person_registered", "person-p-zhao01", {"person_id": "p-zhao01", "name": "赵网格01", "role": "grid_chief",
                                                           "community_id": "huadu"}),
        ev("roster.chief_assigned", "grid-g3-huadu-01", {"grid_id": "g3-huadu-01", "person_id": "p-zhao01",
                                                         "valid_from": SINCE}),
    ]


def full_chain_roster() -> list[Event]:
    """`demo_roster` with every level of 马岗 staffed: 张网格01 (3), 陈社区01 (2), 李街道01 (1)."""
    return demo_roster(with_street_chief=True) + [
        person("p-chen01", "陈社区01", "grid_chief", "magang"),
        chief("g2-magang", "p-chen01"),
    ]
