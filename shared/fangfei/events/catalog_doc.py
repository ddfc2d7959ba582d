"""Generate docs/events.md from the registry, so the published event contract cannot drift from
the marshmallow schemas. `python -m fangfei.events.catalog_doc > docs/events.md`; a test checks it."""

from __future__ import annotations

import sys
from typing import Any

from marshmallow import fields

from . import REGISTRY
from .registry import EventType

PRODUCERS = ("intake", "roster", "escalation", "notification")

HEADER = """\
# Event catalogue

Generated from the schema registry by `python -m fangfei.events.catalog_doc > docs/events.md`
(a test fails when this page and the code disagree). One module per producing service in
`shared/fangfei/events/` registers a marshmallow schema per `(type, schema_version)`; readers see
the latest version (older ones are upcast). Envelope: see
[architecture.md](architecture.md#the-event-envelope); naming and versioning:
[adr/0003](adr/0003-topic-and-event-naming.md).

Every payload refuses unknown fields. `?` marks an optional field. Instants are ISO 8601 with an
offset. No event carries a reporter's identity ([adr/0006](adr/0006-no-reporter-identity-on-the-bus.md)).
"""


def _field(name: str, f: fields.Field) -> str:
    kind = type(f).__name__
    extra = []
    for v in getattr(f, "validators", []) or []:
        choices = getattr(v, "choices", None)
        if choices is not None:
            extra.append("one of " + ", ".join(f"`{c}`" for c in choices))
        elif getattr(v, "max", None) is not None and kind == "String":
            extra.append(f"≤{v.max} chars")
    opt = "" if f.required else "?"
    tail = f" ({'; '.join(extra)})" if extra else ""
    return f"`{name}{opt}` {kind}{tail}"


def producer_of(et: EventType) -> str:
    module = et.schemas[et.latest].__module__
    return module.rsplit(".", 1)[-1] if module.startswith("fangfei.events.") else ""


def render() -> str:
    out = [HEADER]
    for producer in PRODUCERS:
        types = [et for et in REGISTRY.types() if producer_of(et) == producer]
        out.append(f"\n## `{producer}.events` (producer: {producer})\n\n")
        if not types:
            out.append("(none yet)\n")
            continue
        out.append("| type | version | 说明 | payload fields |\n|---|---|---|---|\n")
        for et in types:
            schema: Any = et.schemas[et.latest]()
            cols = "<br>".join(_field(n, f) for n, f in schema.fields.items())
            out.append(f"| `{et.name}` | {et.latest} | {et.description} | {cols} |\n")
    return "".join(out)


if __name__ == "__main__":
    sys.stdout.write(render())
