"""The fast decoder (msgspec, events/fast.py) and the marshmallow decoder accept and refuse exactly
the same events, and give the same Event when they accept (ADR 0017).

Property-based, over every registered `(type, schema_version)`: a valid event is generated from
the marshmallow schemas themselves (envelope and payload, nested lists included), then mutated:
a field dropped, an unknown field added, a value replaced by one of the wrong type, too long, a
near-miss enum value or identifier, a datetime spelled loosely or naive, another schema_version,
a bad envelope, or the bytes themselves broken (truncated, BOM, UTF-16, NaN, duplicate keys…).
For each document both decoders must give the same outcome (same Event, value types included, or
the same exception with the same message and field messages), and the fast path on its own (no
fallback) must never accept what marshmallow refuses, and must take every valid event.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import RAISE, Schema, fields, validate

from fangfei.events import REGISTRY, EventError, decode_event, decode_event_fast, encode_event, new_event
from fangfei.events import fast
from fangfei.events.envelope import EnvelopeSchema
from fangfei.events.fields import code, ident, instant, text

# -- a type with an old version and an upcaster, so the upcast path is covered too ------------------


class ProbeFastPhaseV1(Schema):
    class Meta:
        unknown = RAISE

    label = text(20)
    due = instant()


class ProbeFastV1(Schema):
    class Meta:
        unknown = RAISE

    full_name = text(40)
    grade = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=4))
    at = instant()
    kind = code(("a", "b"), required=False, load_default="")
    ref = ident(required=False)


class ProbeFastV2(Schema):
    class Meta:
        unknown = RAISE

    family_name = text(40)
    given_name = text(40, required=False)
    grade = fields.Integer(required=True, strict=True, validate=validate.OneOf([1, 2, 3, 4, 5]))
    at = instant()
    kind = code(("", "a", "b", "c"), required=False, load_default="")
    ref = ident(required=False)
    phases = fields.List(fields.Nested(ProbeFastPhaseV1), load_default=list, validate=validate.Length(max=3))
    on = fields.Date(required=False, load_default=None, allow_none=True)


REGISTRY.register("probe.fast_upcast", ProbeFastV1, version=1, description="probe")
REGISTRY.register("probe.fast_upcast", ProbeFastV2, version=2, description="probe")


@REGISTRY.upcaster("probe.fast_upcast", 1)
def _v1_to_v2(payload: dict) -> dict:
    family, _, given = str(payload.pop("full_name", "")).partition(" ")
    payload["family_name"] = family or "无名"
    if given:
        payload["given_name"] = given
    if "grade" in payload and isinstance(payload["grade"], int) and not isinstance(payload["grade"], bool):
        payload["grade"] = payload["grade"] + 1
    if isinstance(payload.get("at"), str):
        payload["phases"] = [{"label": "起", "due": payload["at"]}]
    return payload


# -- strategies generated from the marshmallow fields ----------------------------------------------

ZONES = [timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30)),
         timezone(timedelta(hours=14)), timezone(timedelta(hours=5, minutes=45, seconds=30))]
TEXT_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from("网格😀\n ")


def _instants() -> st.SearchStrategy[str]:
    def spell(pair: tuple[datetime, int]) -> str:
        value, how = pair
        if how == 0:
            return value.isoformat()
        if how == 1:
            return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if how == 2:
            return value.isoformat(timespec="seconds")
        if how == 3:
            return value.isoformat().replace("T", " ")
        if how == 4:
            return value.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
        if how == 5:
            return value.isoformat(timespec="microseconds")  # ".000000", which isoformat() leaves out
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "-00:00")

    moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from(ZONES))
    return st.tuples(moments, st.integers(0, 6)).map(spell)


def _text(lo: int, hi: int | None) -> st.SearchStrategy[str]:
    top = hi if hi is not None else lo + 30
    short = st.text(TEXT_CHARS, min_size=lo, max_size=min(top, lo + 12))
    if top <= lo + 12:
        return short
    edge = st.sampled_from(["x", "网", "😀"]).map(lambda c: c * top)  # exactly at the limit, in code points
    return st.one_of(short, short, edge)


def field_strategy(field: fields.Field) -> st.SearchStrategy[Any]:
    s = _field_strategy(field)
    return st.one_of(st.none(), s) if field.allow_none else s


def _field_strategy(field: fields.Field) -> st.SearchStrategy[Any]:
    vs = {type(v): v for v in field.validators}
    if isinstance(field, fields.UUID):
        return st.uuids().map(str)
    if validate.OneOf in vs:
        return st.sampled_from(list(vs[validate.OneOf].choices))
    if isinstance(field, fields.String):
        if validate.Regexp in vs:
            return st.from_regex(vs[validate.Regexp].regex, fullmatch=True)
        length = vs.get(validate.Length)
        return _text(length.min or 0, length.max) if length else _text(0, 20)
    if isinstance(field, fields.Integer):
        rng = vs.get(validate.Range)
        lo = rng.min if rng else None
        hi = rng.max if rng else None
        return st.integers(min_value=lo, max_value=hi)
    if isinstance(field, fields.Boolean):
        return st.booleans()
    if isinstance(field, fields.AwareDateTime):
        return _instants()
    if isinstance(field, fields.Date):
        return st.dates().map(date.isoformat)
    if isinstance(field, fields.List):
        length = vs.get(validate.Length)
        lo = (length.min or 0) if length else 0
        hi = length.max if length and length.max is not None else lo + 3
        return st.lists(field_strategy(field.inner), min_size=lo, max_size=min(hi, lo + 3))
    if isinstance(field, fields.Nested):
        return schema_strategy(type(field.schema))
    raise AssertionError(f"no strategy for {type(field).__name__}: add one so the property test covers it")


def schema_strategy(schema_cls: type[Schema], skip: tuple[str, ...] = ()) -> st.SearchStrategy[dict[str, Any]]:
    schema = schema_cls()
    required = {n: field_strategy(f) for n, f in schema.fields.items() if f.required and n not in skip}
    optional = {n: field_strategy(f) for n, f in schema.fields.items() if not f.required and n not in skip}
    return st.fixed_dictionaries(required, optional=optional)


TYPES = [(et.name, v) for et in REGISTRY.types() for v in sorted(et.schemas)]


def event_strategy(name: str, version: int) -> st.SearchStrategy[dict[str, Any]]:
    envelope = schema_strategy(EnvelopeSchema, skip=("type", "schema_version", "payload", "occurred_at", "recorded_at"))
    stamps = _instants().filter(lambda s: 20 <= len(s) <= 40)
    payload = schema_strategy(REGISTRY._types[name].schemas[version])
    return st.builds(lambda e, p, o, r: {**e, "type": name, "schema_version": version, "occurred_at": o,
                                         "recorded_at": r, "payload": p}, envelope, payload, stamps, stamps)


# -- mutations ---------------------------------------------------------------------------------------

WRONG = [None, 0, 1, -1, 1.0, 1.5, True, False, "", "x", "1", "0", "true", "yes", "on", [], {}, ["x"], {"a": 1},
         2 ** 64, -(2 ** 63) - 1, 10 ** 30, "2026-03-14T09:00:00", "2026-03-14t09:00:00z", "2026-03-14T09:00:00+08:00",
         "2026-02-30T09:00:00+08:00", "2026-03-14T09:00:00.1234567+08:00", "2026-03-14T09:00+08", "20260314T090000Z",
         "2026-03-14", "2026-3-4", "2026-W11-2", "20260314", "not-a-uuid", str(uuid.uuid4()).upper(), "NotAType",
         "clue.vanished", "\ud800", "a\nb", "\u0000"]


def near_misses(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return [int(value), str(value).lower(), float(value), "yes" if value else "no", None]
    if isinstance(value, int):
        return [value + 1, value - 1, float(value), str(value), -value, value * 10 ** 20, bool(value % 2)]
    if isinstance(value, str):
        out = [value + "\n", value.upper(), value.lower(), " " + value, value[:-1], value + "x", value + "x" * 300,
               value + "😀" * 60, value * 50, value.replace("T", "t"), value.replace("T", " "), value.replace("-", "/")]
        if len(value) >= 25 and value[-6] in "+-":
            out.append(value[:-6])  # naive
            out.append(value[:-6] + "z")
        try:
            u = uuid.UUID(value)
            out += [str(u).upper(), "{" + str(u) + "}", "urn:uuid:" + str(u), u.hex]
        except ValueError:
            pass
        return out
    if isinstance(value, list):
        return [value * 30, value + [None], value[:0], [value], value[::-1]]
    if isinstance(value, dict):
        return [{}, [value], {**value, "zz": 1}]
    return []


def _dicts(doc: Any, path: tuple = ()) -> list[tuple[tuple, dict]]:
    found: list[tuple[tuple, dict]] = []
    if isinstance(doc, dict):
        found.append((path, doc))
        for k, v in doc.items():
            found += _dicts(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += _dicts(v, path + (i,))
    return found


@st.composite
def mutated(draw: st.DrawFn, doc: dict[str, Any]) -> bytes | str:
    doc = json.loads(json.dumps(doc))  # a private copy
    kind = draw(st.sampled_from(["drop", "unknown", "replace", "replace", "near", "near", "envelope", "version", "raw",
                                 "none"]))
    holders = [(p, d) for p, d in _dicts(doc) if d]
    if kind == "envelope":  # a near miss in the envelope itself, which every event shares
        holders, kind = [((), doc)], "near"
    if kind == "drop" and holders:
        _, d = draw(st.sampled_from(holders))
        d.pop(draw(st.sampled_from(sorted(d))))
    elif kind == "unknown":
        _, d = draw(st.sampled_from(_dicts(doc)))
        d[draw(st.sampled_from(["zz_unknown", "Payload", "event_id ", "type\n"]))] = draw(st.sampled_from(WRONG))
    elif kind in ("replace", "near") and holders:
        _, d = draw(st.sampled_from(holders))
        key = draw(st.sampled_from(sorted(d)))
        pool = near_misses(d[key]) if kind == "near" else WRONG
        if pool:
            d[key] = draw(st.sampled_from(pool))
    elif kind == "version":
        doc["schema_version"] = draw(st.sampled_from([0, -1, 1, 2, 3, 99, "1", 1.0, True, None, 2 ** 63]))
    raw_text = json.dumps(doc, ensure_ascii=draw(st.booleans()), sort_keys=draw(st.booleans()))
    raw = raw_text.encode("utf-8", "surrogatepass")
    if kind == "raw":
        how = draw(st.sampled_from(["truncate", "bom", "utf16", "list", "garbage", "dup", "nan", "flip", "str", "ws"]))
        if how == "truncate":
            raw = raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
        elif how == "bom":
            raw = b"\xef\xbb\xbf" + raw
        elif how == "utf16":
            raw = raw_text.encode("utf-16", "surrogatepass")
        elif how == "list":
            raw = b"[" + raw + b"]"
        elif how == "garbage":
            raw = raw + b"x"
        elif how == "dup":
            raw = raw[:-1] + b',"type":"clue.reported"}'
        elif how == "nan":
            raw = raw.replace(b'"schema_version":', b'"zz":NaN,"schema_version":', 1)
        elif how == "flip":
            i = draw(st.integers(0, len(raw) - 1))
            raw = raw[:i] + bytes([raw[i] ^ draw(st.integers(1, 255))]) + raw[i + 1:]
        elif how == "str":
            return raw_text
        elif how == "ws":
            raw = b" \n\t" + raw + b"\r\n "
    return raw


# -- comparing outcomes ------------------------------------------------------------------------------


def typed(value: Any) -> Any:
    """The value with every leaf's type, so True and 1 (or a str subclass and a str) differ."""
    if isinstance(value, dict):
        return ("dict", tuple((typed(k), typed(v)) for k, v in sorted(value.items(), key=lambda kv: repr(kv[0]))))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(typed(v) for v in value))
    return (type(value).__name__, value)


def outcome(decoder: Any, raw: bytes | str) -> tuple:
    try:
        event = decoder(raw)
    except EventError as exc:
        return ("refused", type(exc).__name__, str(exc), json.dumps(exc.messages, sort_keys=True, default=repr))
    except Exception as exc:  # an upcaster's own error propagates from both alike
        return ("raised", type(exc).__name__, str(exc))
    return ("accepted", type(event).__name__, typed(event.as_dict()))


def fast_alone(raw: bytes | str) -> Any:
    """The fast path without its marshmallow fallback: an Event, or None when it would fall back."""
    try:
        return fast._fast(raw)
    except Exception:
        return None


def check_same(raw: bytes | str) -> tuple:
    ref = outcome(decode_event, raw)
    assert outcome(decode_event_fast, raw) == ref
    alone = fast_alone(raw)
    if alone is not None:  # soundness: the fast path accepted it, so marshmallow must, with the same Event
        assert ref == ("accepted", "Event", typed(alone.as_dict())), raw
    return ref


PROPERTY = settings(max_examples=10, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much, HealthCheck.large_base_example])


MUTATIONS_PER_EVENT = 6


@pytest.mark.parametrize("name, version", TYPES, ids=[f"{n}-v{v}" for n, v in TYPES])
def test_both_decoders_agree_on_valid_and_mutated_events(name: str, version: int) -> None:
    @PROPERTY
    @given(st.data())
    def prop(data: st.DataObject) -> None:
        doc = data.draw(event_strategy(name, version), label="event")
        raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        ref = check_same(raw)
        assert ref[0] == "accepted", f"the generator made an invalid {name} v{version}: {ref}"
        assert fast_alone(raw) is not None, f"a valid {name} v{version} left the fast path"
        for _ in range(MUTATIONS_PER_EVENT):  # generating the valid event is the costly part
            check_same(data.draw(mutated(doc), label="mutated"))

    prop()


def test_every_type_of_the_catalogue_is_on_the_fast_path() -> None:
    report = fast.fast_path_report()
    print("\nfast path:", json.dumps(report, indent=1, ensure_ascii=False))
    slow = {k: v for k, v in report.items() if not v.startswith("fast")}
    assert not slow, f"types on the marshmallow path: {slow}"
    assert report["probe.fast_upcast v1"] == "fast (upcast to v2)"
    assert len([k for k in report if not k.startswith("probe.")]) >= 60


def test_a_type_without_an_exact_translation_takes_the_marshmallow_path_and_still_agrees() -> None:
    class Custom(Schema):
        class Meta:
            unknown = RAISE

        n = fields.Integer(required=True, validate=lambda v: v % 2 == 0)

    REGISTRY.register("probe.fast_custom", Custom, description="probe")
    assert fast.fast_path_report()["probe.fast_custom v1"].startswith("marshmallow: Custom.n: validator function")
    base = {"event_id": str(uuid.uuid4()), "type": "probe.fast_custom", "schema_version": 1, "stream_id": "probe-1",
            "stream_version": 1, "street_id": "longgang", "occurred_at": "2026-03-14T01:00:00.000Z",
            "recorded_at": "2026-03-14T01:00:00.000Z", "actor": "u", "correlation_id": "", "causation_id": ""}
    for n in (2, 3):
        raw = json.dumps({**base, "payload": {"n": n}}).encode()
        assert fast_alone(raw) is None
        check_same(raw)


NOW = datetime(2026, 3, 14, 1, 0, tzinfo=timezone.utc)


def _clue(**over: Any) -> bytes:
    p = {"clue_id": "c1", "community_id": "magang", "category": "advertising", "source": "grid_patrol",
         "title": "传单", "description": "高息理财传单", "found_at": "2026-03-14T09:00:00.5+08:00", **over}
    return encode_event(new_event("clue.reported", "clue-c1", "longgang", p, actor="u1", occurred_at=NOW).stamped(1, NOW))


@pytest.mark.parametrize("raw", [
    b"", b"\xff\xfe", b"[1,2]", b"not json", b"null", b"{}", b'{"type":"clue.reported"}', "{}", _clue(),
    _clue().decode(), b"\xef\xbb\xbf" + _clue(), _clue().decode().encode("utf-16"),
    _clue().replace(b'"found_at":"2026-03-14T09:00:00.500000+08:00"', b'"found_at":"2026-03-14T01:00:00.5Z"'),
    _clue().replace(b'"found_at":"2026-03-14T09:00:00.500000+08:00"', b'"found_at":"2026-03-14T09:00:00"'),
    _clue().replace(b'"schema_version":1', b'"schema_version":true'),
    _clue().replace(b'"stream_version":1', b'"stream_version":99999999999999999999999'),
])
def test_fixed_edge_cases_agree(raw: bytes | str) -> None:
    check_same(raw)


def test_the_oversize_limit_is_the_same() -> None:
    raw = _clue(description="长" * 4000)
    assert outcome(decode_event_fast, raw) == outcome(decode_event, raw)
    for limit in (len(raw) - 1, len(raw)):
        assert outcome(lambda r: decode_event_fast(r, limit), raw) == outcome(lambda r: decode_event(r, limit), raw)


def test_the_fast_event_is_an_ordinary_event() -> None:
    raw = _clue()
    got, ref = decode_event_fast(raw), decode_event(raw)
    assert got == ref and repr(got) == repr(ref) and encode_event(got) == raw
    assert got.stamped(2, NOW).stream_version == 2
    with pytest.raises(AttributeError):
        got.type = "x"  # type: ignore[misc]


def test_consumers_choose_the_decoder_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FANGFEI_EVENT_DECODER", raising=False)
    assert fast.select_decoder() is decode_event_fast
    monkeypatch.setenv("FANGFEI_EVENT_DECODER", "marshmallow")
    assert fast.select_decoder() is decode_event
    monkeypatch.setenv("FANGFEI_EVENT_DECODER", "orjson")
    with pytest.raises(ValueError):
        fast.select_decoder()
