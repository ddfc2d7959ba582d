"""Events owned by the escalation service (topic `escalation.events`)."""

from marshmallow import RAISE, Schema, fields, validate

from .fields import ident, instant, text
from .registry import REGISTRY


class CaseOpenedV1(Schema):
    """A case was opened for a clue and routed to a grid chief, with its 4-hour registration deadline.

    `assignee_person_id` is empty when the grid is vacant; `routing_note` then says where it went."""

    class Meta:
        unknown = RAISE

    case_id = ident()
    clue_id = ident()
    community_id = ident()
    grid_id = ident(required=False)
    level = fields.Integer(required=True, strict=True, validate=validate.OneOf([1, 2, 3, 4]))
    assignee_person_id = ident(required=False)
    found_at = instant()
    register_deadline = instant()
    routing_note = text(300, required=False)


REGISTRY.register("case.opened", CaseOpenedV1, description="案件已立并分派 a case was opened and routed")
