"""Event contracts: one envelope, one marshmallow schema per event type, upcasters for old versions.

Importing this package registers every event type of the platform (see `catalog`)."""

from .envelope import Event, EventError, new_event
from .registry import REGISTRY, EventRegistry, decode_event, encode_event
from . import catalog  # noqa: F401  (registers the types)
from .fast import decode_event_fast  # msgspec Structs generated from the schemas (ADR 0017)

__all__ = ["Event", "EventError", "new_event", "REGISTRY", "EventRegistry", "decode_event", "decode_event_fast",
           "encode_event"]
