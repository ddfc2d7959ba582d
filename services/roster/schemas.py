"""HTTP query schemas of roster. Unknown parameters are refused; ids are checked like event ids."""

from marshmallow import RAISE, Schema

from fangfei.events.fields import ident, instant


class TreeQuery(Schema):
    """网格树: `at` picks whose chiefs are shown (default: now)."""

    class Meta:
        unknown = RAISE

    at = instant(required=False)


class RouteQuery(Schema):
    """线索流转: who handles a clue of this community at `at` (default: now)."""

    class Meta:
        unknown = RAISE

    street_id = ident()
    community_id = ident()
    grid_id = ident(required=False)
    at = instant(required=False)


class ImportQuery(Schema):
    """名册导入: `actor` names who imports (recorded on every event; default `roster-import`)."""

    class Meta:
        unknown = RAISE

    actor = ident(required=False)
