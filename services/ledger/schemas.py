"""HTTP query schemas of the ledger service. Unknown parameters are refused, as everywhere."""

from __future__ import annotations

from typing import Any, Mapping

from marshmallow import RAISE, Schema, fields, post_load

from fangfei.events.fields import code, ident

from .labels import CLUE_STATUS_RANKS, MISSING_STREET

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class LedgerPageQuery(Schema):
    """Paging shared by every ledger listing. Out-of-range values are clamped, not refused: a
    screen asking for 1000 rows gets the most it may have rather than an error."""

    class Meta:
        unknown = RAISE

    page = fields.Integer(load_default=1)
    page_size = fields.Integer(load_default=DEFAULT_PAGE_SIZE)

    @post_load
    def _clamp(self, data: dict[str, Any], **kwargs: object) -> dict[str, Any]:
        data["page"] = max(1, data["page"])
        data["page_size"] = min(MAX_PAGE_SIZE, max(1, data["page_size"]))
        return data


class ClueVerificationQuery(LedgerPageQuery):
    """线索核查台账 filters: a street always (ledgers are kept per street), optionally a community
    and a status."""

    street_id = ident(error_messages={"required": MISSING_STREET})
    community_id = ident(required=False)
    status = code(CLUE_STATUS_RANKS, required=False)


def load_query(schema: Schema, args: Mapping[str, str]) -> dict[str, Any]:
    """Query parameters → validated filters, every bad one reported at once. A missing street
    alone is named in the message itself, since it is the one mistake every caller makes first."""
    # imported here, not at the top: the projectors import this module too (through spec.py), and
    # the rebuild's reader processes, which only plan, would load nameko and eventlet for nothing
    # (~0.25 s of every process start, a tenth of a 100k-event rebuild)
    from fangfei.http import HttpError, load

    args = dict(args)
    if "street_id" in schema.fields and not args.get("street_id"):
        args.pop("street_id", None)  # reported as missing (with the other errors), not as malformed
    try:
        return load(schema, args)  # type: ignore[no-any-return]
    except HttpError as err:
        if set(err.details) == {"street_id"} and "street_id" not in args:
            err.code, err.message = "missing_street_id", MISSING_STREET
        raise
