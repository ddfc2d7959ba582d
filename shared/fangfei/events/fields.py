"""Field helpers shared by event and HTTP schemas: bounded strings and coded values."""

from __future__ import annotations

from typing import Any, Iterable

from marshmallow import fields, validate

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


def text(max_len: int, *, required: bool = True, min_len: int = 1, **kw: Any) -> fields.String:
    """A string with a length cap (no unbounded text anywhere)."""
    if not required:
        kw.setdefault("load_default", "")
        min_len = 0
    return fields.String(required=required, validate=validate.Length(min=min_len, max=max_len), **kw)


def ident(*, required: bool = True, **kw: Any) -> fields.String:
    """An identifier: letters, digits and `_.:-`, at most 64 characters."""
    if not required:
        kw.setdefault("load_default", "")
        return fields.String(
            required=False, validate=validate.Regexp(r"^$|" + ID_PATTERN, error="not a valid identifier"), **kw
        )
    return fields.String(required=True, validate=validate.Regexp(ID_PATTERN, error="not a valid identifier"), **kw)


def code(choices: Iterable[str], **kw: Any) -> fields.String:
    allowed = list(choices)
    return fields.String(
        required=kw.pop("required", True),
        validate=validate.OneOf(allowed, error="must be one of: " + ", ".join(allowed)),
        **kw,
    )


def instant(**kw: Any) -> fields.AwareDateTime:
    """A timezone-aware instant; naive times are refused (deadlines depend on the offset)."""
    return fields.AwareDateTime(required=kw.pop("required", True), format="iso", **kw)
