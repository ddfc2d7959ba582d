"""Events owned by the notification service (topic `notification.events`)."""

from marshmallow import RAISE, Schema

from ..vocab import DELIVERY_CHANNELS
from .fields import code, ident, text
from .registry import REGISTRY


class DeliveryRecordedV1(Schema):
    """A notification was delivered to a recipient on a channel, because of `source_event_id`."""

    class Meta:
        unknown = RAISE

    delivery_id = ident()
    source_event_id = ident()
    source_type = text(64)
    recipient_person_id = ident()
    channel = code(DELIVERY_CHANNELS)
    subject = text(200)
    body = text(2000)


REGISTRY.register("delivery.recorded", DeliveryRecordedV1, description="通知已送达 a notification was delivered")
