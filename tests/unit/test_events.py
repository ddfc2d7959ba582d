"""Event contracts: every type round-trips, bad envelopes and payloads are refused with the
field named, and an event stored under an old schema version is upcast when it is read."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from marshmallow import RAISE, Schema, fields

from fangfei.eventstore.connect import open_database
from fangfei.eventstore.store import EventStore
from fangfei.events import REGISTRY, EventError, decode_event, encode_event, new_event
from fangfei.events.registry import EventRegistry

NOW = datetime(2026, 3, 14, 1, 0, tzinfo=timezone.utc)


def clue_payload(**over: object) -> dict:
    p = {"clue_id": "c1", "community_id": "magang", "category": "advertising", "source": "grid_patrol",
         "title": "传单", "description": "高息理财传单", "found_at": "2026-03-14T09:00:00+08:00"}
    p.update(over)
    return p


def stored(ev):  # as the store records it
    return ev.stamped(1, NOW)


def test_an_event_survives_the_wire_unchanged() -> None:
    ev = stored(new_event("clue.reported", "clue-c1", "longgang", clue_payload(), actor="u1", occurred_at=NOW))
    assert decode_event(encode_event(ev)) == ev


@pytest.mark.parametrize("change, field", [
    (lambda d: d.pop("stream_version"), "stream_version"),
    (lambda d: d.update(extra=1), "extra"),
    (lambda d: d.update(stream_id="no-kind-separator!"), "stream_id"),
    (lambda d: d.update(type="NotAType"), "type"),
    (lambda d: d["payload"].update(surprise="x"), "surprise"),
    (lambda d: d["payload"].update(category="lottery"), "category"),
])
def test_a_malformed_event_is_refused_naming_the_field(change, field) -> None:
    data = stored(new_event("clue.reported", "clue-c1", "longgang", clue_payload(), actor="u", occurred_at=NOW)).as_dict()
    change(data)
    with pytest.raises(EventError) as err:
        decode_event(json.dumps(data).encode())
    assert field in json.dumps(err.value.messages)


def test_unknown_type_and_garbage_are_refused() -> None:
    with pytest.raises(EventError):
        new_event("clue.vanished", "clue-c1", "longgang", {}, actor="u", occurred_at=NOW)
    for raw in (b"\xff\xfe", b"[1,2]", b"not json"):
        with pytest.raises(EventError):
            decode_event(raw)


def test_an_oversize_event_is_refused() -> None:
    ev = stored(new_event("clue.reported", "clue-c1", "longgang", clue_payload(description="长" * 4000),
                          actor="u", occurred_at=NOW))
    with pytest.raises(EventError, match="over the limit"):
        encode_event(ev, max_bytes=4096)
    with pytest.raises(EventError, match="over the limit"):
        decode_event(encode_event(ev), max_bytes=4096)


def test_schemas_must_refuse_unknown_fields() -> None:
    class Lax(Schema):
        name = fields.String()

    with pytest.raises(TypeError):
        EventRegistry().register("probe.lax", Lax)


class ProbeV1(Schema):
    class Meta:
        unknown = RAISE

    full_name = fields.String(required=True)


class ProbeV2(Schema):
    class Meta:
        unknown = RAISE

    family_name = fields.String(required=True)
    given_name = fields.String(required=True)


REGISTRY.register("probe.renamed", ProbeV1, version=1)
REGISTRY.register("probe.renamed", ProbeV2, version=2)


@REGISTRY.upcaster("probe.renamed", 1)
def _split_name(payload: dict) -> dict:
    family, _, given = payload["full_name"].partition(" ")
    return {"family_name": family, "given_name": given}


def test_an_old_event_in_the_store_is_read_as_the_latest_version() -> None:
    store = EventStore(open_database("memory:upcast")[1])
    old = new_event("probe.renamed", "probe-1", "longgang", {"full_name": "网格 甲"}, actor="u", occurred_at=NOW,
                    schema_version=1)
    store.append("probe-1", 0, [old])
    [read] = store.read_stream("probe-1")
    assert (read.schema_version, dict(read.payload)) == (2, {"family_name": "网格", "given_name": "甲"})
    assert decode_event(encode_event(stored(old))).payload == {"family_name": "网格", "given_name": "甲"}


def test_every_registered_type_has_a_description_and_refuses_unknown_fields() -> None:
    for et in REGISTRY.types():
        if et.name.startswith("probe."):
            continue
        assert et.description, f"{et.name} has no description"
        for version, schema in et.schemas.items():
            with pytest.raises(EventError):
                REGISTRY.validate_payload(et.name, version, {"definitely_not_a_field": 1})
