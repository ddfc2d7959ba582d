"""Events owned by the roster service (topic `roster.events`).

Everything with a time in the real world carries it as `valid_from` / `valid_until` (when it held),
apart from `occurred_at` (when it was recorded), so "who was responsible at T" has one answer and a
late correction never rewrites the past (docs/adr/0007-roster-history-and-routing.md)."""

from marshmallow import RAISE, Schema, fields, validate

from ..vocab import COMMUNITY_KINDS, INDUSTRY_SECTORS, LEADING_GROUP_POSITIONS, MEMBER_UNIT_KINDS, PERSON_ROLES
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


PHONE_PATTERN = r"^[0-9][0-9-]{4,19}$"
# Roles held through `roster.role_assigned`; a grid chief is named by `roster.chief_assigned`.
ASSIGNABLE_ROLES = [r for r in PERSON_ROLES if r != "grid_chief"]


def _optional_code(choices: list[str]) -> fields.String:
    return fields.String(load_default="", validate=validate.OneOf(["", *choices]))


class PersonRegisteredV1(Schema):
    """A person on the roster. `role` is the person's main role and `community_id` their home
    community (empty at street level); the roles they hold, where and from when, are
    `roster.role_assigned` / `roster.chief_assigned`. `phone` is the work phone printed on the
    community contact card (seed 001 一张联系卡), optional (added later, so old events lack it);
    nothing more personal belongs here. Names are synthetic in the demo."""

    class Meta:
        unknown = RAISE

    person_id = ident()
    name = text(50)
    role = code(PERSON_ROLES)
    community_id = ident(required=False)
    phone = fields.String(load_default="", validate=validate.Regexp(r"^$|" + PHONE_PATTERN))


class ChiefAssignedV1(Schema):
    """`person_id` is the chief (网格长) of `grid_id` from `valid_from` until the next assignment."""

    class Meta:
        unknown = RAISE

    grid_id = ident()
    person_id = ident()
    valid_from = instant()


class GridVacatedV1(Schema):
    """Grid `grid_id` has no chief from `valid_from` until the next `roster.chief_assigned`."""

    class Meta:
        unknown = RAISE

    grid_id = ident()
    valid_from = instant()


class RoleAssignedV1(Schema):
    """`person_id` holds `role` at a place from `valid_from` until a `roster.role_ended` of the same
    place. The place is its non-empty ids: a grid (with its community), a community, a member unit
    (`unit_id`, for its contact), or the street's leading group (`position` set; `unit_id` is then
    the unit the member stands for). `title` is the post as written in lists (单位及职务)."""

    class Meta:
        unknown = RAISE

    person_id = ident()
    role = code(ASSIGNABLE_ROLES)
    community_id = ident(required=False)
    grid_id = ident(required=False)
    unit_id = ident(required=False)
    position = _optional_code(list(LEADING_GROUP_POSITIONS))
    title = text(100, required=False)
    valid_from = instant()


class RoleEndedV1(Schema):
    """The assignment with the same person, role and place ends at `valid_until`."""

    class Meta:
        unknown = RAISE

    person_id = ident()
    role = code(ASSIGNABLE_ROLES)
    community_id = ident(required=False)
    grid_id = ident(required=False)
    unit_id = ident(required=False)
    position = _optional_code(list(LEADING_GROUP_POSITIONS))
    valid_until = instant()


class MemberUnitRegisteredV1(Schema):
    """A member unit (成员单位) of the street's leading group: an office, a station, a company."""

    class Meta:
        unknown = RAISE

    unit_id = ident()
    name = text(100)
    kind = code(MEMBER_UNIT_KINDS)


class UnitSectorsAssignedV1(Schema):
    """From `valid_from` on, the unit is responsible for exactly these industry sectors (seed 003 §三);
    an empty list ends its sector duties."""

    class Meta:
        unknown = RAISE

    unit_id = ident()
    sectors = fields.List(code(INDUSTRY_SECTORS), required=True, validate=validate.Length(max=len(INDUSTRY_SECTORS)))
    valid_from = instant()


class LeadingGroupRegisteredV1(Schema):
    """The street's leading group (领导小组) and the member unit its office sits in (办公室设在…).
    One per street, in stream `leading_group-<street_id>`; members are `roster.role_assigned`
    with a `position`."""

    class Meta:
        unknown = RAISE

    name = text(100)
    office_unit_id = ident(required=False)


REGISTRY.register("roster.street_registered", StreetRegisteredV1, description="街道已登记 a street was registered")
REGISTRY.register("roster.community_registered", CommunityRegisteredV1, description="社区/村已登记 a community or village was registered")
REGISTRY.register("roster.grid_registered", GridRegisteredV1, description="网格已登记 a grid was registered")
REGISTRY.register("roster.person_registered", PersonRegisteredV1, description="人员已登记 a person was registered (or renamed)")
REGISTRY.register("roster.chief_assigned", ChiefAssignedV1, description="网格长已任命 a grid chief was appointed from a time")
REGISTRY.register("roster.grid_vacated", GridVacatedV1, description="网格长空缺 a grid has no chief from a time")
REGISTRY.register("roster.role_assigned", RoleAssignedV1, description="人员已任职 a person holds a role at a place from a time")
REGISTRY.register("roster.role_ended", RoleEndedV1, description="人员已离任 a person's role at a place ended at a time")
REGISTRY.register("roster.member_unit_registered", MemberUnitRegisteredV1, description="成员单位已登记 a member unit was registered")
REGISTRY.register("roster.unit_sectors_assigned", UnitSectorsAssignedV1, description="成员单位负责行业已确定 a unit's industry sectors from a time")
REGISTRY.register("roster.leading_group_registered", LeadingGroupRegisteredV1, description="领导小组已登记 a street's leading group and its office")
