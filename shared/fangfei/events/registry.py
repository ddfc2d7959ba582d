"""Registry of event types: (type, schema_version) → marshmallow schema, plus upcasters.

Readers always see the latest version of a type: an event stored as v1 is upcast step by step
(v1→v2→…) when read, so old events never need rewriting. Unknown fields are refused everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from marshmallow import RAISE, Schema, ValidationError

from .envelope import Event, EventError, load_envelope

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

# Hard cap on one encoded event; a payload that needs more is a design error, not data.
DEFAULT_MAX_EVENT_BYTES = 256 * 1024


@dataclass
class EventType:
    name: str
    schemas: dict[int, type[Schema]] = field(default_factory=dict)
    upcasters: dict[int, Upcaster] = field(default_factory=dict)  # from version N to N+1
    public: bool = False
    description: str = ""
    # One instance per version, made on first use and reused: marshmallow deep-copies every declared
    # field when it instantiates a schema, which cost more than the validation itself when it was
    # done per event (docs/benchmarks.md). load/dump keep no state on the instance.
    _instances: dict[int, Schema] = field(default_factory=dict, repr=False, compare=False)

    @property
    def latest(self) -> int:
        return max(self.schemas)

    def schema(self, version: int) -> Schema | None:
        """The shared instance of this type's schema `version` (None if there is no such version)."""
        instance = self._instances.get(version)
        if instance is None:
            schema_cls = self.schemas.get(version)
            if schema_cls is None:
                return None
            instance = self._instances[version] = schema_cls()
        return instance


class EventRegistry:
    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}
        # bumped by every registration, so derived tables (the fast decoder's, events/fast.py) rebuild
        self.generation = 0

    def register(
        self, name: str, schema: type[Schema], *, version: int = 1, description: str = "", public: bool = False
    ) -> None:
        """Register `schema` as version `version` of event type `name`."""
        meta = getattr(schema, "Meta", None)
        if getattr(meta, "unknown", None) != RAISE:
            raise TypeError(f"schema for {name} v{version} must set Meta.unknown = RAISE")
        et = self._types.setdefault(name, EventType(name))
        if version in et.schemas:
            raise ValueError(f"{name} v{version} is registered twice")
        et.schemas[version] = schema
        self.generation += 1
        et.description = description or et.description
        et.public = public or et.public

    def upcaster(self, name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: register the function that turns `name` v`from_version` into the next version."""

        def deco(fn: Upcaster) -> Upcaster:
            self._types[name].upcasters[from_version] = fn
            self.generation += 1
            return fn

        return deco

    def types(self) -> list[EventType]:
        return [self._types[n] for n in sorted(self._types)]

    def latest_version(self, name: str) -> int:
        return self._get(name).latest

    def _get(self, name: str) -> EventType:
        try:
            return self._types[name]
        except KeyError:
            raise EventError(f"unknown event type {name!r}", {"type": ["unknown event type"]}) from None

    def validate_payload(self, name: str, version: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Validate and normalise a payload; raise EventError with field messages if it is bad."""
        et = self._get(name)
        schema = et.schema(version)
        if schema is None:
            raise EventError(f"{name} has no schema version {version}", {"schema_version": ["unknown version"]})
        try:
            # dump(load(x)) gives the JSON-safe canonical form that is stored and published
            return dict(schema.dump(schema.load(payload)))
        except ValidationError as exc:
            raise EventError(f"payload of {name} v{version} is invalid", exc.messages_dict) from exc

    def upcast(self, name: str, version: int, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        et = self._get(name)
        while version < et.latest:
            step = et.upcasters.get(version)
            if step is None:
                raise EventError(f"no upcaster for {name} v{version}", {"schema_version": ["cannot upcast"]})
            payload = step(payload)
            version += 1
        return version, payload


REGISTRY = EventRegistry()


def encode_event(event: Event, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> bytes:
    """UTF-8 JSON of the envelope; refuses events over `max_bytes` with a clear error."""
    data = json.dumps(event.as_dict(), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    if len(data) > max_bytes:
        raise EventError(
            f"event {event.type} is {len(data)} bytes, over the limit of {max_bytes}", {"payload": ["too large"]}
        )
    return data


def event_from_dict(data: Mapping[str, Any], registry: EventRegistry = REGISTRY) -> Event:
    """Validate an envelope dict and its payload, upcasting old versions to the latest."""
    env = load_envelope(data)
    version, payload = registry.upcast(env["type"], env["schema_version"], dict(env["payload"]))
    env["payload"] = registry.validate_payload(env["type"], version, payload)
    env["schema_version"] = version
    return Event(**env)


def decode_event(raw: bytes, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> Event:
    """Parse bytes from Kafka into a validated Event (EventError on anything malformed)."""
    if len(raw) > max_bytes:
        raise EventError(f"event of {len(raw)} bytes is over the limit of {max_bytes}", {"payload": ["too large"]})
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventError(f"event is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise EventError("event must be a JSON object")
    return event_from_dict(data)
