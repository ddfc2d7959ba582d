"""The roster's event contracts: every type survives the wire, events recorded before a field was
added still read (and fold) the same, and payloads outside the vocabulary are refused."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from fangfei.events import REGISTRY, EventError, decode_event, encode_event, new_event
from fangfei.events.registry import event_from_dict
from fangfei.roster_view import RosterView

NOW = datetime(2026, 3, 14, 1, 0, tzinfo=timezone.utc)
T = "2025-01-01T00:00:00+08:00"

SAMPLES = {
    "roster.street_registered": {"street_id": "longgang", "name": "龙岗街道"},
    "roster.community_registered": {"community_id": "magang", "name": "马岗社区", "kind": "community"},
    "roster.grid_registered": {"grid_id": "g1", "name": "网格", "level": 1},
    "roster.person_registered": {"person_id": "p1", "name": "网格长甲01", "role": "grid_chief", "phone": "139-0000-0001"},
    "roster.chief_assigned": {"grid_id": "g1", "person_id": "p1", "valid_from": T},
    "roster.grid_vacated": {"grid_id": "g1", "valid_from": T},
    "roster.role_assigned": {"person_id": "p1", "role": "leader", "position": "head", "title": "党委书记", "valid_from": T},
    "roster.role_ended": {"person_id": "p1", "role": "leader", "position": "head", "valid_until": T},
    "roster.member_unit_registered": {"unit_id": "u1", "name": "龙岗派出所", "kind": "police_station"},
    "roster.unit_sectors_assigned": {"unit_id": "u1", "sectors": ["real_estate", "elderly_care"], "valid_from": T},
    "roster.leading_group_registered": {"name": "领导小组", "office_unit_id": "u1"},
}


def test_every_roster_type_has_a_sample() -> None:
    assert set(SAMPLES) == {t.name for t in REGISTRY.types() if t.name.startswith("roster.")}


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_every_roster_event_survives_the_wire(event_type: str) -> None:
    event = new_event(event_type, "x-1", "longgang", SAMPLES[event_type], actor="t", occurred_at=NOW).stamped(1, NOW)
    assert decode_event(encode_event(event)) == event


def test_a_person_recorded_before_phones_reads_and_folds_the_same() -> None:
    """The walking skeleton recorded people without `phone`; stores and replicas still hold them."""
    old = new_event("roster.person_registered", "person-p1", "longgang", {"person_id": "p1", "name": "甲", "role": "liaison"},
                    actor="t", occurred_at=NOW).stamped(1, NOW).as_dict()
    old["payload"].pop("phone")
    read = event_from_dict(old)
    assert read.payload["phone"] == ""
    assert RosterView.from_events([read]).people["p1"] == {
        "name": "甲", "role": "liaison", "community_id": "", "street_id": "longgang", "phone": ""}


@pytest.mark.parametrize(
    "event_type, change",
    [
        ("roster.role_assigned", {"role": "grid_chief"}),  # a chief is named by roster.chief_assigned
        ("roster.role_assigned", {"position": "treasurer"}),
        ("roster.role_assigned", {"valid_from": "2025-01-01T00:00:00"}),
        ("roster.unit_sectors_assigned", {"sectors": ["lottery"]}),
        ("roster.member_unit_registered", {"kind": "bank"}),
        ("roster.person_registered", {"phone": "+86 139"}),
    ],
)
def test_values_outside_the_vocabulary_are_refused(event_type: str, change: dict) -> None:
    with pytest.raises(EventError) as err:
        new_event(event_type, "x-1", "longgang", {**SAMPLES[event_type], **change}, actor="t", occurred_at=NOW)
    assert set(change) <= set(err.value.messages)
