"""HTTP request schemas of intake. Unknown fields are refused; every string has a length cap."""

from marshmallow import RAISE, Schema, validates_schema, ValidationError

from fangfei.events.fields import code, ident, instant, text
from fangfei.vocab import CLUE_CATEGORIES, CLUE_SOURCES


class ReportClueRequest(Schema):
    """线索上报: what a grid worker or an office enters for one clue."""

    class Meta:
        unknown = RAISE

    street_id = ident()
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

    @validates_schema
    def _strip(self, data: dict, **kwargs: object) -> None:
        for key in ("title", "description"):
            if key in data and not str(data[key]).strip():
                raise ValidationError("不能为空白", key)
