"""The fast decode path: msgspec Structs generated from the marshmallow catalogue (ADR 0017).

`decode_event_fast(raw)` returns exactly the `Event` that `registry.decode_event(raw)` returns, and
raises exactly what it raises, at about the cost of `json.loads` instead of a marshmallow load and
dump per event. Replay and the Kafka consumers use it; marshmallow stays the contract (the schemas
in `intake.py`, `roster.py`, … are the one source of truth) and the validator of HTTP input.

How it stays equal to the marshmallow decoder:

- **Generated, not written.** The envelope and every `(type, schema_version)` get a msgspec Struct
  and a small checker, both generated from the registered marshmallow schema on first use
  (`compile_schema`): every field, validator and default is translated into something that
  accepts *a subset* of what the marshmallow field accepts and gives the same value after
  `dump(load(x))`. A field without such a translation (a custom validator, a schema hook, a field
  class not in the table below) sends its whole type down the marshmallow path;
  `fast_path_report()` names every type and why.
- **Refusals go to marshmallow.** Anything the fast path does not accept (bad input, and also
  input that marshmallow accepts in a looser spelling: `"late": 1`, an upper-case UUID, a UTF-16
  document) is decoded again by `decode_event`, which gives the verdict and the same `EventError`
  with the same field messages (they end up in dead-letter headers). So both decoders accept and
  refuse the same events as long as the fast path never accepts what marshmallow refuses and
  gives the same value when both accept: tests/unit/test_fast_decode.py checks exactly that,
  property-based, over every registered type.
- **Upcasting** is the registry's own: an old `schema_version` is decoded untyped, passed through
  the same upcasters, then converted to the latest version's Struct (`msgspec.convert`).

Field translation (marshmallow → msgspec Struct field, plus the generated checker's part):

| marshmallow | fast path |
|---|---|
| `String` + `Length` | `str` with `min_length`/`max_length` |
| `String` + `Regexp` (flags 0) | `str`; the checker runs the same compiled regex's `match` (a set remembers good values) |
| `String` / `Integer` + `OneOf` | `Literal[…]` of the choices that pass the whole field (its other validators too) |
| `Integer` (strict or not) + `Range` | `int` with `ge`/`gt`/`le`/`lt` (JSON integers only: no bools, no floats) |
| `Boolean` | `bool` (only when marshmallow loads `true`/`false` as themselves) |
| `AwareDateTime` (iso) | `str`; the checker calls `datetime.fromisoformat` (what marshmallow calls), requires an offset and writes `isoformat()` (what it dumps), or keeps the text when it is already in that form |
| `Date` (iso) | `datetime.date` (strict `YYYY-MM-DD`; dumped by `isoformat()`) |
| `UUID` | `str`; the checker requires canonical lower-case 8-4-4-4-12 (exactly the texts with `str(uuid.UUID(s)) == s`) |
| `List(inner)` + `Length` | `list[inner]` with `min_length`/`max_length` |
| `Nested(schema)` | the nested schema's own Struct and checker |
| `allow_none` / `load_default` / not required | `T | None` / the (dumped) default / `UNSET` (left out, as marshmallow leaves it out) |
| `Meta.unknown = RAISE` | `forbid_unknown_fields=True` |

Regex checks run in Python, not as msgspec `pattern`s: msgspec calls the pattern per value for
about 0.35 µs, a plain `match` costs a third of that and a set lookup of an id already seen
(stream ids, community ids, people, types) less again. The remembered sets are bounded (cleared at
`MEMO_LIMIT` entries, one per distinct pattern) and hold only values that passed, so they change speed, never a verdict.
`isoformat()` costs ~0.7 µs; a text that is already in its form (all that producers write) is
recognised by a regex and kept, after `fromisoformat` has accepted it.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass, fields as _dc_fields
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
    "MEMO_LIMIT",
]

MEMO_LIMIT = 100_000  # entries per remembered set of identifiers before it is cleared (~10 MB)
_MEMOS: dict[tuple[Any, int], set[str]] = {}  # (regex pattern, flags) → values that matched it


class Unsupported(Exception):
    """A marshmallow field or schema that has no exact msgspec translation (its type is slow)."""


# -- checks that run in Python after msgspec has checked types, lengths, ranges and choices ----------

_fromisoformat = _dt.datetime.fromisoformat


# Texts that `isoformat()` prints for an aware datetime with a whole-minute offset: for these,
# fromisoformat(t).isoformat() == t whenever fromisoformat(t) succeeds (no ".000000", which it
# leaves out, and no "-00:00", which it prints as "+00:00"). Everything the producers dump is so.
_CANONICAL_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.(?!000000)[0-9]{6})?"
    r"(?:\+[0-9]{2}:[0-9]{2}|-(?!00:00)[0-9]{2}:[0-9]{2})"
).fullmatch


def _instant(text: str) -> str:
    """marshmallow's AwareDateTime(format="iso") load then dump, for a str; ValueError if refused."""
    value = _fromisoformat(text)  # what marshmallow calls (raises ValueError if refused)
    if _CANONICAL_INSTANT(text) is not None:  # aware, and isoformat() would print it back as is
        return text
    tz = value.tzinfo
    if tz is None or tz.utcoffset(value) is None:  # marshmallow.utils.is_aware
        raise ValueError("not an aware datetime")
    return value.isoformat()  # ~0.7 µs: what the canonical test above saves


_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").fullmatch


class _Op:
    """One field's Python-side check (None when msgspec's own checks are the whole story)."""

    def __init__(self, kind: str, arg: Any = None, inner: "_Op | None" = None) -> None:
        self.kind, self.arg, self.inner = kind, arg, inner  # rx | uuid | instant | list | nested | none


def _merge(op: _Op | None, *, none_ok: bool) -> _Op | None:
    if op is None:
        return None
    return _Op("none", inner=op) if none_ok else op


# -- schema → Struct + checker ----------------------------------------------------------------------


@dataclass
class _Plan:
    struct: type[msgspec.Struct]
    check: Callable[[dict[str, Any]], None] | None
    # False when every field decodes to a JSON value already (no nested Struct, no date, no UNSET):
    # then the shallow `structs.asdict` (half the cost of `to_builtins`) gives the payload dict
    deep: bool = True


_PLANS: dict[type[Schema], _Plan] = {}


def _probe(field: fields.Field, value: Any) -> Any:
    """What marshmallow loads `value` as (validators included), or raise ValidationError."""
    return field.deserialize(value)


def _literal_choices(field: fields.Field, one_of: validate.OneOf, kind: type) -> tuple[Any, ...]:
    """The OneOf choices that the whole field (its type check and every validator) loads as
    themselves: exactly the set a Literal may hold."""
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


def _split_validators(field: fields.Field, allowed: tuple[type, ...], where: str) -> dict[type, Any]:
    found: dict[type, Any] = {}
    for v in field.validators:
        if type(v) not in allowed:
            raise Unsupported(f"{where}: validator {type(v).__name__} has no msgspec equivalent")
        if type(v) in found:
            raise Unsupported(f"{where}: two {type(v).__name__} validators")
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


def _field_type(field: fields.Field, where: str) -> tuple[Any, _Op | None]:
    """The msgspec type and Python check that accept a subset of what `field` accepts, with the
    value marshmallow's dump gives."""
    if field.data_key is not None or field.attribute is not None:
        raise Unsupported(f"{where}: data_key/attribute")
    if field.load_only or field.dump_only:
        raise Unsupported(f"{where}: load_only/dump_only")
    if getattr(field, "pre_load", None) or getattr(field, "post_load", None):
        raise Unsupported(f"{where}: field-level pre_load/post_load")
    cls = type(field)
    if cls is fields.String:
        vs = _split_validators(field, (validate.Length, validate.Regexp, validate.OneOf), where)
        if validate.OneOf in vs:
            return Literal[_literal_choices(field, vs[validate.OneOf], str)], None  # type: ignore[valid-type]
        rx = vs.get(validate.Regexp)
        op = None
        if rx is not None:
            op = _Op("rx", rx.regex)  # the validator's own compiled pattern and flags
        return _annotated(str, _length_meta(vs.get(validate.Length))), op
    if cls is fields.Integer:
        if field.as_string:
            raise Unsupported(f"{where}: as_string")
        vs = _split_validators(field, (validate.Range, validate.OneOf), where)
        if validate.OneOf in vs:
            return Literal[_literal_choices(field, vs[validate.OneOf], int)], None  # type: ignore[valid-type]
        meta: dict[str, Any] = {}
        rng = vs.get(validate.Range)
        if rng is not None:
            if rng.min is not None:
                meta["ge" if rng.min_inclusive else "gt"] = rng.min
            if rng.max is not None:
                meta["le" if rng.max_inclusive else "lt"] = rng.max
        return _annotated(int, meta), None
    if cls is fields.Boolean:
        _split_validators(field, (), where)
        try:
            ok = _probe(field, True) is True and _probe(field, False) is False
        except ValidationError:
            ok = False
        if not ok:
            raise Unsupported(f"{where}: true/false do not load as themselves")
        return bool, None
    if cls is fields.AwareDateTime:
        _split_validators(field, (), where)
        if field.format not in (None, "iso", "iso8601") or field.default_timezone is not None:
            raise Unsupported(f"{where}: datetime format {field.format!r}")
        return str, _Op("instant")
    if cls is fields.Date:
        _split_validators(field, (), where)
        if field.format not in (None, "iso", "iso8601"):
            raise Unsupported(f"{where}: date format {field.format!r}")
        return _dt.date, None
    if cls is fields.UUID:
        _split_validators(field, (), where)
        return str, _Op("uuid")
    if cls is fields.List:
        vs = _split_validators(field, (validate.Length,), where)
        inner = field.inner
        if inner.allow_none:
            raise Unsupported(f"{where}: list of optional items")
        tp, op = _field_type(inner, where + "[]")
        list_tp = _annotated(list[tp], _length_meta(vs.get(validate.Length)))  # type: ignore[valid-type]
        return list_tp, (_Op("list", inner=op) if op else None)
    if cls is fields.Nested:
        _split_validators(field, (), where)
        if field.only or field.exclude or field.unknown is not None or field.many:
            raise Unsupported(f"{where}: Nested with only/exclude/unknown/many")
        nested = field.nested
        if not (isinstance(nested, type) and issubclass(nested, Schema)):
            raise Unsupported(f"{where}: Nested of {nested!r}")
        plan = compile_schema(nested)
        return plan.struct, (_Op("nested", plan.check) if plan.check else None)
    raise Unsupported(f"{where}: field {cls.__name__}")


def _default_passes(op: _Op, value: Any) -> bool:
    """A default is never validated by marshmallow; the checker may only see it if it passes unchanged."""
    if op.kind == "rx":
        return isinstance(value, str) and op.arg.match(value) is not None
    if op.kind == "list":
        return value == []
    if op.kind == "none":
        return value is None or _default_passes(op.inner, value)  # type: ignore[arg-type]
    return False


def _emit(op: _Op, var: str, put: Callable[[str], str] | None, env: dict[str, Any], depth: int, pad: str) -> list[str]:
    """Source lines that check `var` (and replace it through `put` when the check rewrites it)."""
    n = len(env)
    if op.kind == "none":
        return [f"{pad}if {var} is not None:", *_emit(op.inner, var, put, env, depth, pad + "    ")]  # type: ignore[arg-type]
    if op.kind == "rx":
        # one remembered set per (pattern, flags), shared by every field validated by it: the
        # verdict is the same, memory is bounded per pattern, and ids seen in one type hit in others
        env[f"M{n}"], env[f"S{n}"] = op.arg.match, _MEMOS.setdefault((op.arg.pattern, op.arg.flags), set())
        return [f"{pad}if {var} not in S{n}:",
                f"{pad}    if M{n}({var}) is None: raise ValueError('pattern')",
                f"{pad}    if len(S{n}) >= LIMIT: S{n}.clear()",
                f"{pad}    S{n}.add({var})"]
    if op.kind == "uuid":
        return [f"{pad}if UUID({var}) is None: raise ValueError('uuid')"]
    if op.kind == "instant":
        assert put is not None
        return [f"{pad}t = INSTANT({var})", f"{pad}if t is not {var}: {put('t')}"]
    if op.kind == "nested":
        env[f"N{n}"] = op.arg
        return [f"{pad}N{n}({var})"]
    if op.kind == "list":
        item, idx = f"x{depth}", f"j{depth}"
        inner: _Op = op.inner  # type: ignore[assignment]
        if _rewrites(inner):
            return [f"{pad}for {idx}, {item} in enumerate({var}):",
                    *_emit(inner, item, lambda v: f"{var}[{idx}] = {v}", env, depth + 1, pad + "    ")]
        return [f"{pad}for {item} in {var}:", *_emit(inner, item, None, env, depth + 1, pad + "    ")]
    raise AssertionError(op.kind)


def _rewrites(op: _Op) -> bool:
    return op.kind == "instant" or (op.kind == "none" and _rewrites(op.inner))  # type: ignore[arg-type]


def _checker(name: str, ops: list[tuple[str, _Op, bool]]) -> Callable[[dict[str, Any]], None] | None:
    """Generate `check(d)` for a dict made by `to_builtins` of the Struct (absent UNSET keys too)."""
    if not ops:
        return None
    env: dict[str, Any] = {"LIMIT": MEMO_LIMIT, "UUID": _UUID_TEXT, "INSTANT": _instant,
                           "MISSING": msgspec.UNSET}
    lines = [f"def check_{name}(d):"]
    for key, op, may_be_absent in ops:
        if may_be_absent:
            lines += [f"    v = d.get({key!r}, MISSING)", "    if v is not MISSING:"]
            lines += _emit(op, "v", lambda v, key=key: f"d[{key!r}] = {v}", env, 0, "        ")
        else:
            lines += [f"    v = d[{key!r}]"]
            lines += _emit(op, "v", lambda v, key=key: f"d[{key!r}] = {v}", env, 0, "    ")
    exec(compile("\n".join(lines), f"<fangfei.events.fast check_{name}>", "exec"), env)  # noqa: S102
    return env[f"check_{name}"]


def compile_schema(schema_cls: type[Schema], *, overrides: dict[str, Any] | None = None) -> _Plan:
    """The msgspec Struct and checker of a marshmallow schema (cached); raises Unsupported with
    the reason when some part of it has no exact translation."""
    if not overrides and schema_cls in _PLANS:
        return _PLANS[schema_cls]
    schema = schema_cls()
    where = schema_cls.__name__
    if schema.opts.unknown != RAISE:
        raise Unsupported(f"{where}: unknown is not RAISE")
    if any(schema._hooks.values()):
        raise Unsupported(f"{where}: schema hooks ({', '.join(k for k, v in schema._hooks.items() if v)})")
    if schema.only or schema.exclude or schema.partial or schema.load_fields.keys() != schema.dump_fields.keys():
        raise Unsupported(f"{where}: only/exclude/partial, or load and dump fields differ")
    spec: list[tuple[Any, ...]] = []
    ops: list[tuple[str, _Op, bool]] = []
    deep = False
    for name, field in schema.fields.items():
        if overrides and name in overrides:
            tp, op = overrides[name], None
        else:
            tp, op = _field_type(field, f"{where}.{name}")
        inner_field = field.inner if isinstance(field, fields.List) else field
        deep = deep or isinstance(inner_field, (fields.Nested, fields.Date))
        if field.allow_none:
            tp = Union[tp, None]
        op = _merge(op, none_ok=field.allow_none)
        if field.required:
            spec.append((name, tp))
            if op:
                ops.append((name, op, False))
            continue
        default = field.load_default
        if default is fields.missing_:  # absent stays absent, as marshmallow leaves it out of the dump
            spec.append((name, Union[tp, msgspec.UnsetType], msgspec.UNSET))
            deep = True
            if op:
                ops.append((name, op, True))
            continue
        value = default() if callable(default) else default
        dumped = field._serialize(value, name, {})
        if type(dumped) is not type(value) or dumped != value or type(value) not in (str, int, bool, type(None), list):
            raise Unsupported(f"{where}.{name}: default {value!r} dumps as {dumped!r}")
        if op is not None:
            if not _default_passes(op, value):
                raise Unsupported(f"{where}.{name}: default {value!r} would not pass the check")
            ops.append((name, op, False))
        if type(value) is list:
            if value:
                raise Unsupported(f"{where}.{name}: non-empty list default")
            spec.append((name, tp, msgspec.field(default_factory=list)))
        else:
            spec.append((name, tp, value))
    struct = msgspec.defstruct(
        "Fast" + schema_cls.__name__, spec, kw_only=True, forbid_unknown_fields=True, module=__name__
    )
    plan = _Plan(struct, _checker(schema_cls.__name__, ops), deep)
    if not overrides:
        _PLANS[schema_cls] = plan
    return plan


# -- the envelope, and the Event built without the dataclass __init__ -------------------------------

_ENVELOPE = compile_schema(EnvelopeSchema, overrides={"payload": msgspec.Raw})
_ENVELOPE_DECODER = msgspec.json.Decoder(_ENVELOPE.struct)
_check_envelope = _ENVELOPE.check
_ENVELOPE_FIELDS = [f for f in _ENVELOPE.struct.__struct_fields__]
# Event(**fields) on a frozen dataclass sets each field through object.__setattr__ (~1.5 µs); an
# Event whose __dict__ is the envelope's dict is the same object (fields, ==, hash, repr), made in
# a tenth of that. Only while Event is a plain dataclass with exactly these fields and no hooks:
_EVENT_FIELDS = {f.name for f in _dc_fields(Event)}
_PLAIN_EVENT = (
    _EVENT_FIELDS == set(_ENVELOPE_FIELDS)
    and not hasattr(Event, "__post_init__")
    and "__slots__" not in Event.__dict__
)
_new = object.__new__
_set = object.__setattr__
_asdict = msgspec.structs.asdict


def _make_event(d: dict[str, Any]) -> Event:
    if _PLAIN_EVENT:
        event = _new(Event)
        _set(event, "__dict__", d)
        return event
    return Event(**d)


# -- per (type, version) ----------------------------------------------------------------------------


@dataclass
class _Compiled:
    decoder: msgspec.json.Decoder | None  # None: this type takes the marshmallow path
    plan: _Plan | None = None
    upcast: bool = False  # an older version: decode untyped, upcast, convert to the latest Struct
    reason: str = ""


_ANY_DECODER = msgspec.json.Decoder()
_to_builtins = msgspec.to_builtins
_convert = msgspec.convert
_PASS_THROUGH = (_dt.datetime, _dt.date, _dt.time)  # kept as objects: the Struct decides on them
_cache: dict[tuple[str, int], _Compiled] = {}
_cache_generation = -1
_TYPE_FIELD = EnvelopeSchema().fields["type"]


def _compile(registry: EventRegistry, name: str, version: int) -> _Compiled:
    et = registry._types.get(name)
    if et is None or version not in et.schemas:
        return _Compiled(None, reason="not registered")  # unknown type or version: marshmallow says so
    try:
        _probe(_TYPE_FIELD, name)
    except ValidationError:
        return _Compiled(None, reason="type name refused by the envelope")
    latest = et.latest
    try:
        plan = compile_schema(et.schemas[latest])
    except Unsupported as exc:
        return _Compiled(None, reason=str(exc))
    return _Compiled(msgspec.json.Decoder(plan.struct), plan, version < latest)


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
    """How many events took which path (valid events of fast types should all be fast)."""

    __slots__ = ("fast", "fallback")

    def __init__(self) -> None:
        self.fast = 0
        self.fallback = 0


STATS = _Stats()


def _fast(raw: bytes | str) -> Event | None:
    env = _ENVELOPE_DECODER.decode(raw)
    c = _cache.get((env.type, env.schema_version)) if _cache_generation == REGISTRY.generation else None
    if c is None:
        c = _entry(env.type, env.schema_version)
    if c.decoder is None:
        return None
    d = _asdict(env)
    _check_envelope(d)  # type: ignore[misc]
    plan: _Plan = c.plan  # type: ignore[assignment]
    if c.upcast:
        data = _ANY_DECODER.decode(env.payload)
        if type(data) is not dict:
            return None
        d["schema_version"], data = REGISTRY.upcast(env.type, env.schema_version, data)
        payload = _to_builtins(_convert(_to_builtins(data, builtin_types=_PASS_THROUGH), plan.struct))
    else:
        payload = (_to_builtins if plan.deep else _asdict)(c.decoder.decode(env.payload))
    if plan.check is not None:
        plan.check(payload)
    d["payload"] = payload
    return _make_event(d)


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
    """Every registered `type vN` → "fast", "fast (upcast to vM)" or why it takes the marshmallow path."""
    report: dict[str, str] = {}
    for et in registry.types():
        for version in sorted(et.schemas):
            c = _compile(registry, et.name, version)
            if c.decoder is None:
                report[f"{et.name} v{version}"] = f"marshmallow: {c.reason}"
            else:
                report[f"{et.name} v{version}"] = f"fast (upcast to v{et.latest})" if c.upcast else "fast"
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
