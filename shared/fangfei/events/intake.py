"""Events owned by the intake service (topic `intake.events`)."""

from marshmallow import RAISE, Schema

from ..vocab import CLUE_CATEGORIES, CLUE_SOURCES
from .fields import code, ident, instant, text
from .registry import REGISTRY


class ClueReportedV1(Schema):
    """A clue (线索) entered the platform. Carries no reporter identity: see docs/adr/0006-no-reporter-identity-on-the-bus.md."""

    class Meta:
        unknown = RAISE

    clue_id = ident()
    community_id = ident()
    category = code(CLUE_CATEGORIES)
    source = code(CLUE_SOURCES)
    title = text(100)
    description = text(4000)
    subject_name = text(200, required=False)
    credit_code = text(18, required=False)
    address = text(300, required=False)
    found_at = instant()
    reported_by = ident(required=False)


REGISTRY.register("clue.reported", ClueReportedV1, description="线索已上报 a clue was reported")
