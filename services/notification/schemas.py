"""HTTP request schemas of notification. Unknown parameters are refused."""

from marshmallow import RAISE, Schema

from fangfei.events.fields import ident


class DeliveriesQuery(Schema):
    """Query string of GET /api/deliveries: optionally one street and one recipient (within the
    caller's scope)."""

    class Meta:
        unknown = RAISE

    recipient_id = ident(required=False)
    street_id = ident(required=False)
