"""Events owned by the notification service (topic `notification.events`).

- `delivery.recorded`: an in-app inbox message (站内消息) was recorded, one per (cause, recipient).
- `delivery.sent` / `delivery.dead_lettered`: the outcome of an outbound delivery (e-mail, SMS,
  agency webhook or agency topic), one stream `delivery-<delivery_id>` per (cause, recipient,
  channel). The outbound text itself is not repeated here: it is in the notification service's
  outbox, and for agencies it is a redacted copy of a published event.
- `subscription.created` / `subscription.cancelled`: an agency's subscription to event types of
  some streets. The webhook secret never appears in an event (it is returned once, to the caller).
"""

from marshmallow import RAISE, Schema, fields, validate

from ..vocab import DELIVERY_CHANNELS
from .fields import code, ident, text
from .registry import REGISTRY

# Outbound channels, beside the inbox of fangfei.vocab.DELIVERY_CHANNELS (labels shown to users).
OUTBOUND_CHANNELS: dict[str, str] = {
    "email": "电子邮件",
    "sms": "短信",
    "webhook": "Webhook 推送",
    "topic": "订阅主题（Kafka）",
}
RECIPIENT_KINDS: dict[str, str] = {"person": "人员", "subscription": "部门订阅"}
SUBSCRIPTION_MODES: dict[str, str] = {"webhook": "Webhook 推送", "topic": "订阅主题（Kafka）"}


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


class _Outbound(Schema):
    class Meta:
        unknown = RAISE

    delivery_id = ident()
    source_event_id = ident()
    source_type = text(64)
    recipient_kind = code(RECIPIENT_KINDS)
    recipient_id = ident()
    channel = code(OUTBOUND_CHANNELS)
    attempts = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))


class DeliverySentV1(_Outbound):
    """The channel accepted the delivery (SMTP server, SMS gateway, webhook 2xx, broker ack)."""


class DeliveryDeadLetteredV1(_Outbound):
    """Every attempt failed (or the failure was permanent): the delivery waits for a person.
    `error` names the failure class (never message text or personal data)."""

    error = text(200)


class SubscriptionCreatedV1(Schema):
    """An agency (部门) subscribed to event types of some streets, by webhook or by a topic."""

    class Meta:
        unknown = RAISE

    subscription_id = ident()
    agency = ident()
    name = text(100)
    event_types = fields.List(text(64), required=True, validate=validate.Length(min=1, max=60))
    street_ids = fields.List(ident(), required=True, validate=validate.Length(min=1, max=50))
    mode = code(SUBSCRIPTION_MODES)
    url = text(500, required=False)  # webhook mode only
    topic = text(200, required=False)  # topic mode only
    personal_data = fields.Boolean(required=True)
    by = ident()


class SubscriptionCancelledV1(Schema):
    class Meta:
        unknown = RAISE

    subscription_id = ident()
    reason = text(300, required=False)
    by = ident()


REGISTRY.register("delivery.recorded", DeliveryRecordedV1, description="通知已送达 a notification was delivered")
REGISTRY.register("delivery.sent", DeliverySentV1, description="通知已发出 an outbound delivery was accepted")
REGISTRY.register("delivery.dead_lettered", DeliveryDeadLetteredV1,
                  description="通知发送失败待处理 an outbound delivery failed every attempt")
REGISTRY.register("subscription.created", SubscriptionCreatedV1, description="部门已订阅 an agency subscribed to events")
REGISTRY.register("subscription.cancelled", SubscriptionCancelledV1,
                  description="部门已取消订阅 an agency subscription was cancelled")
