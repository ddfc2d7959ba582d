"""The fast decode path: msgspec Structs generated from the marshmallow catalogue (ADR 0017).

`decode_event_fast(raw)` returns exactly the `Event` that `registry.decode_event(raw)` returns, and
raises exactly what it raises, at about the cost of `json.loads` instead of a marshmallow load and
dump per event. Replay and the Kafka consumers use it; marshmallow stays the contract (the schemas
in `intake.py`, `roster.py`, … are the one source of truth) and the validator of HTTP input.

How it stays equal to the marshmallow decoder:

- **Generated, not written.** The envelope Struct and one Struct per `(type, schema_version)` are
  built from the registered marshmallow schemas on first use (`compile_schema`): every field,
  validator and default is translated into a msgspec constraint that accepts *a subset* of what
  the marshmallow field accepts and gives the same value after `dump(load(x))`. A field that has
  no such translation (a custom validator, a schema hook, a field class not listed below) makes
  its whole type take the marshmallow path; `fast_path_report()` names every type and why.
- **Refusals go to marshmallow.** Anything the fast path does not accept (bad input, but also
  input that marshmallow accepts in a looser form: `"late": 1`, an upper-case UUID, a naive-looking
  datetime spelling) is decoded again by `decode_event`, which gives the verdict, the same
  `EventError` and the same field messages (they end up in dead-letter headers). So the two
  decoders accept and refuse the same events by construction, as long as the fast path never
  accepts something marshmallow refuses and gives the same value when both accept. That is what
  tests/unit/test_fast_decode.py checks, property-based, over every registered type.
- **Upcasting** is the registry's own: an old `schema_version` is decoded untyped, passed through
  the same upcasters, then validated against the latest version's Struct (`msgspec.convert`).

Field translation (marshmallow → msgspec), each a subset with the same loaded-and-dumped value:

| marshmallow | msgspec |
|---|---|
| `String` + `Length` / `Regexp` (flags 0) | `str` with `min_length`/`max_length`/`pattern` (`re.search` of `\\A(?:…)` = `re.match`) |
| `String` / `Integer` + `OneOf` | `Literal[…]` of the choices that also pass the field's other validators |
| `Integer` (strict or not) + `Range` | `int` with `ge`/`gt`/`le`/`lt` (JSON integers only; no bools, no floats) |
| `Boolean` | `bool` (only when marshmallow loads `true`/`false` as themselves) |
| `AwareDateTime` (iso) | a str checked by `datetime.fromisoformat` (what marshmallow calls), aware, re-written by `isoformat()` (what it dumps) |
| `Date` (iso) | `datetime.date` (strict `YYYY-MM-DD`, dumped by `isoformat()`) |
| `UUID` | canonical lower-case 8-4-4-4-12 text (`str(uuid.UUID(s)) == s` for exactly these) |
| `List(inner)` + `Length` | `list[inner]` with `min_length`/`max_length` |
| `Nested(schema)` | the nested schema's own Struct |
| `allow_none` / `load_default` / not required | `T | None` / the dumped default / `UNSET` (left out, as marshmallow leaves it out) |
| `Meta.unknown = RAISE` | `forbid_unknown_fields=True` |
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Literal, Union

import msgspec
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from .envelope import EnvelopeSchema, Event
from .registry import DEFAULT_MAX_EVENT_BYTES, REGISTRY, EventRegistry, decode_event

__all__ = [
    "decode_event_fast",
    "decode_event_bytes",
    "select_decoder",
    "fast_path_report",
    "compile_schema",
    "Unsupported",
    "STATS",
]


class Unsupported(Exception):
    """A marshmallow field or schema that has no exact msgspec translation (its type is slow)."""


# -- datetimes: the marshmallow functions themselves, behind a msgspec custom type ------------------


class _Instant(str):
    """An aware ISO 8601 instant, already in the form marshmallow dumps (`isoformat()`)."""

    __slots__ = ()


_fromisoformat = _dt.datetime.fromisoformat


def _dec_hook(tp: type, obj: Any) -> Any:
    if tp is _Instant:
        if type(obj) is not str:  # marshmallow: fromisoformat(non-str) is a TypeError → invalid
            raise TypeError("not a string")
        value = _fromisoformat(obj)
        tz = value.tzinfo
        if tz is None or tz.utcoffset(value) is None:  # marshmallow.utils.is_aware
            raise ValueError("not an aware datetime")
        return _Instant(value.isoformat())
    raise NotImplementedError(tp)


_UUID_TEXT = r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z"

# -- schema → Struct ------------------------------------------------------------------------------

_STRUCTS: dict[type[Schema], type[msgspec.Struct]] = {}


def _probe(field: fields.Field, value: Any) -> Any:
    """What marshmallow loads `value` as (validators included), or raise ValidationError."""
    return field.deserialize(value)


def _literal_choices(field: fields.Field, one_of: validate.OneOf, kind: type) -> tuple[Any, ...]:
    """The OneOf choices that the whole field (its type check and every validator) accepts as
    themselves; exactly the set a Literal may hold."""
    accepted = []
    for choice in one_of.choices:
        if type(choice) is not kind:
            raise Unsupported(f"OneOf choice {choice!r} is not a {kind.__name__}")
        try:
            loaded = _probe(field, choice)
        except ValidationError:
            continue
        if type(loaded) is not kind or loaded != choice:
            raise Unsupported(f"OneOf choice {choice!r} loads as {loaded!r}")
        accepted.append(choice)
    if not accepted:
        raise Unsupported("no OneOf choice is valid")
    return tuple(accepted)


def _split_validators(field: fields.Field, allowed: tuple[type, ...]) -> dict[type, Any]:
    found: dict[type, Any] = {}
    for v in field.validators:
        if type(v) not in allowed:
            raise Unsupported(f"validator {type(v).__name__} has no msgspec equivalent")
        if type(v) in found:
            raise Unsupported(f"two {type(v).__name__} validators")
        found[type(v)] = v
    return found


def _length_meta(v: validate.Length | None) -> dict[str, int]:
    if v is None:
        return {}
    if v.equal is not None:
        return {"min_length": v.equal, "max_length": v.equal}
    meta = {}
    if v.min is not None:
        meta["min_length"] = v.min
    if v.max is not None:
        meta["max_length"] = v.max
    return meta


def _annotated(tp: Any, meta: dict[str, Any]) -> Any:
    return Annotated[tp, msgspec.Meta(**meta)] if meta else tp


def _field_type(field: fields.Field, where: str) -> Any:
    """The msgspec type that accepts a subset of what `field` accepts, with the same dumped value."""
    if field.data_key is not None or field.attribute is not None:
        raise Unsupported(f"{where}: data_key/attribute")
    if field.load_only or field.dump_only:
        raise Unsupported(f"{where}: load_only/dump_only")
    if getattr(field, "pre_load", None) or getattr(field, "post_load", None):
        raise Unsupported(f"{where}: field-level pre_load/post_load")
    cls = type(field)
    if cls is fields.String:
        vs = _split_validators(field, (validate.Length, validate.Regexp, validate.OneOf))
        if validate.OneOf in vs:
            return Literal[_literal_choices(field, vs[validate.OneOf], str)]  # type: ignore[valid-type]
        meta: dict[str, Any] = _length_meta(vs.get(validate.Length))
        rx = vs.get(validate.Regexp)
        if rx is not None:
            if rx.regex.flags & ~re.UNICODE:
                raise Unsupported(f"{where}: regex flags")
            meta["pattern"] = r"\A(?:" + rx.regex.pattern + ")"  # re.search of this == re.match
        return _annotated(str, meta)
    if cls is fields.Integer:
        if field.as_string:
            raise Unsupported(f"{where}: as_string")
        vs = _split_validators(field, (validate.Range, validate.OneOf))
        if validate.OneOf in vs:
            return Literal[_literal_choices(field, vs[validate.OneOf], int)]  # type: ignore[valid-type]
        meta = {}
        rng = vs.get(validate.Range)
        if rng is not None:
            if rng.min is not None:
                meta["ge" if rng.min_inclusive else "gt"] = rng.min
            if rng.max is not None:
                meta["le" if rng.max_inclusive else "lt"] = rng.max
        return _annotated(int, meta)
    if cls is fields.Boolean:
        _split_validators(field, ())
        try:
            ok = _probe(field, True) is True and _probe(field, False) is False
        except ValidationError:
            ok = False
        if not ok:
            raise Unsupported(f"{where}: true/false do not load as themselves")
        return bool
    if cls is fields.AwareDateTime:
        _split_validators(field, ())
        if field.format not in (None, "iso", "iso8601") or field.default_timezone is not None:
            raise Unsupported(f"{where}: datetime format {field.format!r}")
        return _Instant
    if cls is fields.Date:
        _split_validators(field, ())
        if field.format not in (None, "iso", "iso8601"):
            raise Unsupported(f"{where}: date format {field.format!r}")
        return _dt.date
    if cls is fields.UUID:
        _split_validators(field, ())
        return Annotated[str, msgspec.Meta(pattern=_UUID_TEXT)]
    if cls is fields.List:
        vs = _split_validators(field, (validate.Length,))
        inner = field.inner
        if inner.allow_none:
            raise Unsupported(f"{where}: list of optional items")
        return _annotated(list[_field_type(inner, where + "[]")], _length_meta(vs.get(validate.Length)))  # type: ignore[misc]
    if cls is fields.Nested:
        _split_validators(field, ())
        if field.only or field.exclude or field.unknown is not None or field.many:
            raise Unsupported(f"{where}: Nested with only/exclude/unknown/many")
        nested = field.nested
        if not (isinstance(nested, type) and issubclass(nested, Schema)):
            raise Unsupported(f"{where}: Nested of {nested!r}")
        return compile_schema(nested)
    raise Unsupported(f"{where}: field {cls.__name__}")


def compile_schema(schema_cls: type[Schema], *, overrides: dict[str, Any] | None = None) -> type[msgspec.Struct]:
    """The msgspec Struct of a marshmallow schema (cached); raises Unsupported naming the reason."""
    if not overrides and schema_cls in _STRUCTS:
        return _STRUCTS[schema_cls]
    schema = schema_cls()
    where = schema_cls.__name__
    if schema.opts.unknown != RAISE:
        raise Unsupported(f"{where}: unknown is not RAISE")
    if any(schema._hooks.values()):
        raise Unsupported(f"{where}: schema hooks ({', '.join(k for k, v in schema._hooks.items() if v)})")
    if schema.only or schema.exclude or schema.partial or schema.load_fields.keys() != schema.dump_fields.keys():
        raise Unsupported(f"{where}: only/exclude/partial or load and dump fields differ")
    spec = []
    for name, field in schema.fields.items():
        tp = (overrides or {}).get(name)
        if tp is None:
            tp = _field_type(field, f"{where}.{name}")
        if field.allow_none:
            tp = Union[tp, None]
        if field.required:
            spec.append((name, tp))
            continue
        default = field.load_default
        if default is fields.missing_:  # absent stays absent, as marshmallow leaves it out of the dump
            spec.append((name, Union[tp, msgspec.UnsetType], msgspec.UNSET))
            continue
        value = default() if callable(default) else default
        dumped = field._serialize(value, name, {})
        if type(dumped) is not type(value) or dumped != value or type(value) not in (str, int, bool, type(None), list):
            raise Unsupported(f"{where}.{name}: default {value!r} dumps as {dumped!r}")
        if type(value) is list:
            if value:
                raise Unsupported(f"{where}.{name}: non-empty list default")
            spec.append((name, tp, msgspec.field(default_factory=list)))
        else:
            spec.append((name, tp, value))
    struct = msgspec.defstruct(
        "Fast" + schema_cls.__name__, spec, kw_only=True, forbid_unknown_fields=True, module=__name__
    )
    if not overrides:
        _STRUCTS[schema_cls] = struct
    return struct


# -- per (type, version) --------------------------------------------------------------------------


@dataclass
class _Compiled:
    struct: type[msgspec.Struct] | None  # None: this type takes the marshmallow path
    decoder: msgspec.json.Decoder | None
    upcast: bool  # an older version: decode untyped, upcast, then convert to the latest Struct
    reason: str = ""


_ENVELOPE = compile_schema(EnvelopeSchema, overrides={"payload": msgspec.Raw})
_ENVELOPE_DECODER = msgspec.json.Decoder(_ENVELOPE)
_ANY_DECODER = msgspec.json.Decoder()
_to_builtins = msgspec.to_builtins
_convert = msgspec.convert
_SLOW = _Compiled(None, None, False, "not registered")
_cache: dict[tuple[str, int], _Compiled] = {}
_cache_generation = -1


def _compile(registry: EventRegistry, name: str, version: int) -> _Compiled:
    et = registry._types.get(name)
    if et is None or version not in et.schemas:
        return _SLOW  # unknown type or version: marshmallow says so
    latest = et.latest
    try:
        struct = compile_schema(et.schemas[latest])
    except Unsupported as exc:
        return _Compiled(None, None, False, str(exc))
    if version < latest:
        return _Compiled(struct, None, True)
    return _Compiled(struct, msgspec.json.Decoder(struct, dec_hook=_dec_hook), False)


def _entry(name: str, version: int) -> _Compiled:
    global _cache_generation
    if _cache_generation != REGISTRY.generation:  # a type or version was registered since
        _cache.clear()
        _cache_generation = REGISTRY.generation
    c = _cache.get((name, version))
    if c is None:
        c = _cache[(name, version)] = _compile(REGISTRY, name, version)
    return c


class _Stats:
    """How many events took which path (the fast path should take all valid ones)."""

    __slots__ = ("fast", "fallback")

    def __init__(self) -> None:
        self.fast = 0
        self.fallback = 0


STATS = _Stats()
_new_event = object.__new__
_setattr = object.__setattr__


def _fast(raw: bytes | str) -> Event | None:
    env = _ENVELOPE_DECODER.decode(raw)
    version = env.schema_version
    c = _cache.get((env.type, version)) if _cache_generation == REGISTRY.generation else None
    if c is None:
        c = _entry(env.type, version)
    if c.struct is None:
        return None
    if c.upcast:
        data = _ANY_DECODER.decode(env.payload)
        if type(data) is not dict:
            return None
        version, data = REGISTRY.upcast(env.type, version, data)
        payload = _to_builtins(_convert(data, c.struct, dec_hook=_dec_hook), enc_hook=str)
    else:
        payload = _to_builtins(c.decoder.decode(env.payload), enc_hook=str)  # type: ignore[union-attr]
    return Event(
        type=env.type,
        stream_id=env.stream_id,
        street_id=env.street_id,
        payload=payload,
        actor=env.actor,
        occurred_at=env.occurred_at,
        event_id=env.event_id,
        schema_version=version,
        stream_version=env.stream_version,
        recorded_at=env.recorded_at,
        correlation_id=env.correlation_id,
        causation_id=env.causation_id,
    )


def decode_event_fast(raw: bytes | str, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> Event:
    """Parse one event from Kafka (or the store's JSON) into a validated `Event`, upcast to the
    latest version: the same result as `fangfei.events.registry.decode_event(raw, max_bytes)`,
    and for input that it refuses the same `EventError` (the same message and field messages),
    at about the cost of `json.loads`.

    Valid events of every type that `fast_path_report()` lists as fast are checked by msgspec
    Structs generated from the marshmallow schemas; anything else (invalid input, a type without
    an exact translation) is decoded by `decode_event` itself."""
    if len(raw) > max_bytes:
        return decode_event(raw, max_bytes)  # type: ignore[arg-type]  # raises its "over the limit"
    try:
        event = _fast(raw)
    except Exception:  # noqa: BLE001 — any refusal (or surprise) is judged by the marshmallow decoder
        event = None
    if event is None:
        STATS.fallback += 1
        return decode_event(raw, max_bytes)  # type: ignore[arg-type]
    STATS.fast += 1
    return event


# The name services/ledger/replay.py imports.
decode_event_bytes = decode_event_fast


def fast_path_report(registry: EventRegistry = REGISTRY) -> dict[str, str]:
    """Every registered `type vN` → "fast" or the reason it takes the marshmallow path."""
    report: dict[str, str] = {}
    for et in registry.types():
        for version in sorted(et.schemas):
            try:
                compile_schema(et.schemas[et.latest])
                report[f"{et.name} v{version}"] = "fast" if version == et.latest else f"fast (upcast to v{et.latest})"
            except Unsupported as exc:
                report[f"{et.name} v{version}"] = f"marshmallow: {exc}"
    return report


DECODERS: dict[str, Callable[..., Event]] = {"fast": decode_event_fast, "marshmallow": decode_event}


def select_decoder(name: str | None = None) -> Callable[..., Event]:
    """The decoder consumers use: `FANGFEI_EVENT_DECODER` = `fast` (default) or `marshmallow`
    (the validating reference decoder, e.g. to rule the fast path out while chasing a bug)."""
    choice = (name or os.environ.get("FANGFEI_EVENT_DECODER") or "fast").strip().lower()
    try:
        return DECODERS[choice]
    except KeyError:
        raise ValueError(f"FANGFEI_EVENT_DECODER must be one of {sorted(DECODERS)}, not {choice!r}") from None
