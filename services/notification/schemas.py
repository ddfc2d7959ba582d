"""HTTP request schemas of notification. Unknown parameters are refused."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from fangfei.events.fields import code, ident, text
from fangfei.events.notification import OUTBOUND_CHANNELS, SUBSCRIPTION_MODES

from .outbox import STATES
from .redaction import SUBSCRIBABLE


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class DeliveriesQuery(_Strict):
    """Query string of GET /api/deliveries: optionally one street and one recipient (within the
    caller's scope)."""

    recipient_id = ident(required=False)
    street_id = ident(required=False)


class InboxQuery(_Strict):
    """GET /api/inbox: the caller's own messages; nothing to choose but how many."""

    limit = fields.Integer(required=False, load_default=100, validate=validate.Range(min=1, max=100))


class OutboxQuery(_Strict):
    channel = code(OUTBOUND_CHANNELS, required=False)
    state = code(STATES, required=False)
    street_id = ident(required=False)


class ContactBody(_Strict):
    email = fields.Email(required=True, validate=validate.Length(max=200))


class SubscriptionBody(_Strict):
    """POST /api/subscriptions. A street office subscribes for its own street (street_ids may be
    left out); only the district office may grant `personal_data`."""

    agency = ident()
    name = text(100)
    event_types = fields.List(fields.String(validate=validate.OneOf(sorted(SUBSCRIBABLE))), required=True,
                              validate=validate.Length(min=1, max=len(SUBSCRIBABLE)))
    street_ids = fields.List(ident(), required=False, load_default=list, validate=validate.Length(max=50))
    mode = code(SUBSCRIPTION_MODES)
    url = text(500, required=False)
    personal_data = fields.Boolean(required=False, load_default=False)

    @validates("url")
    def _url(self, value: str, **_: object) -> None:
        if value and not (value.startswith("https://") or value.startswith("http://")):
            raise ValidationError("须为 http:// 或 https:// 地址")


class SubscriptionsQuery(_Strict):
    street_id = ident(required=False)
    agency = ident(required=False)
