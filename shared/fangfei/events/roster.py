"""Events owned by the roster service (topic `roster.events`)."""

from marshmallow import RAISE, Schema, fields, validate

from ..vocab import COMMUNITY_KINDS, PERSON_ROLES
from .fields import code, ident, instant, text
from .registry import REGISTRY


class StreetRegisteredV1(Schema):
    class Meta:
        unknown = RAISE

    street_id = ident()
    name = text(100)


class CommunityRegisteredV1(Schema):
    class Meta:
        unknown = RAISE

    community_id = ident()
    name = text(100)
    kind = code(COMMUNITY_KINDS)


class GridRegisteredV1(Schema):
    """A grid cell at level 1 (the street), 2 (a community) or 3 (a patrol grid in a community)."""

    class Meta:
        unknown = RAISE

    grid_id = ident()
    name = text(100)
    level = fields.Integer(required=True, strict=True, validate=validate.OneOf([1, 2, 3]))
    parent_grid_id = ident(required=False)
    community_id = ident(required=False)


class PersonRegisteredV1(Schema):
    """A person on the roster. Names are synthetic in the demo; contact details stay in roster."""

    class Meta:
        unknown = RAISE

    person_id = ident()
    name = text(50)
    role = code(PERSON_ROLES)
    community_id = ident(required=False)


class ChiefAssignedV1(Schema):
    """`person_id` is the chief (网格长) of `grid_id` from `valid_from` until the next assignment."""

    class Meta:
        unknown = RAISE

    grid_id = ident()
    person_id = ident()
    valid_from = instant()


REGISTRY.register("roster.street_registered", StreetRegisteredV1, description="街道已登记")
REGISTRY.register("roster.community_registered", CommunityRegisteredV1, description="社区/村已登记")
REGISTRY.register("roster.grid_registered", GridRegisteredV1, description="网格已登记")
REGISTRY.register("roster.person_registered", PersonRegisteredV1, description="人员已登记")
REGISTRY.register("roster.chief_assigned", ChiefAssignedV1, description="网格长已任命")
