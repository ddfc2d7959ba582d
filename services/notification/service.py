"""Notification (通知): tells people what they must do, sends agencies what they subscribed to,
and keeps a log of every delivery.

Entrypoints translate; handlers decide. Every route is admitted by `@api` (token, policy) and
scoped with `access_of(request)`. Each outbound channel is drained by its own timer, so a slow
channel never delays another. See README.md for the API."""

from __future__ import annotations

import os
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import timer
from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from fangfei.auth.access import Access, Forbidden
from fangfei.auth.policy import Scope
from fangfei.auth.roles import DISTRICT_OFFICE
from fangfei.bus.entrypoint import event_handler
from fangfei.bus.kafka import BrokerAdmin, make_producer
from fangfei.dependencies import PerProcess, on_roster_events
from fangfei.eventstore.provider import StoreHandle
from fangfei.events import Event, new_event
from fangfei.events.notification import OUTBOUND_CHANNELS
from fangfei.http import NotFound, access_of, api, json_response, load, read_json, validation_error
from fangfei.roster_view import RosterReplica, RosterView
from fangfei.service_base import PlatformService
from fangfei.vocab import DELIVERY_CHANNELS

from . import dispatch, handlers, subscriptions as subs
from .board import BOARD_TYPES
from .channels.email import EmailChannel
from .channels.sms import SmsChannel
from .channels.topic import TopicChannel
from .channels.webhook import WebhookChannel
from .config import NotifyConfig
from .deliveries import DeliveryLog
from .outbox import STATES
from .redaction import SUBSCRIBABLE
from .rules import RULE_TYPES
from .schemas import ContactBody, DeliveriesQuery, InboxQuery, OutboxQuery, SubscriptionBody, SubscriptionsQuery

SERVICE = "notification"
DRAIN_S = int(os.environ.get("FANGFEI_NOTIFY_DRAIN_INTERVAL_MS", "500")) / 1000.0
DIGEST_TICK_S = 60.0
CHANNEL_LABELS = {**DELIVERY_CHANNELS, **OUTBOUND_CHANNELS}

# (source service, event type) of everything this service reacts to
CONSUMED = sorted({("escalation", t) for t in RULE_TYPES + BOARD_TYPES} | {(s, t) for t, s in SUBSCRIBABLE.items()})


def on_consumed_events(fn: Any) -> Any:
    for source, event_type in CONSUMED:
        fn = event_handler(source, event_type)(fn)
    return fn


class Channels(DependencyProvider):
    """The outbound channels of this process, built once from its settings (None: off)."""

    handle = StoreHandle()

    def setup(self) -> None:
        h = self.handle.open()
        cfg = NotifyConfig.from_env(h.settings.extra)
        bootstrap = h.settings.kafka_bootstrap
        secrets_db = subs.Subscriptions(h.db)
        admin = BrokerAdmin(bootstrap, "fangfei-notification-topics")
        self.channels: dict[str, Any] = {
            "email": EmailChannel(cfg.smtp) if cfg.smtp else None,
            "sms": SmsChannel(cfg.sms) if cfg.sms else None,
            "webhook": WebhookChannel(secrets_db.secret_of, cfg.send_timeout_s),
            "topic": TopicChannel(lambda: make_producer(bootstrap, "fangfei-notification-topics"),
                                  lambda t: admin.ensure_topics([t]), cfg.send_timeout_s),
        }
        self.config = cfg

    def get_dependency(self, worker_ctx: Any) -> "Channels":
        return self


class NotificationService(PlatformService):
    name = SERVICE
    roster = PerProcess(RosterReplica)
    deliveries = PerProcess(DeliveryLog)
    channels = Channels()

    # -- events -----------------------------------------------------------------------------------
    @on_roster_events
    def apply_roster_event(self, event: Event) -> None:
        """Keep our own copy of the roster: recipients, their phones, grids and member units."""
        self.roster.add(event)

    @on_consumed_events
    def handle_event(self, event: Event) -> None:
        handlers.notify(self.store, self.deliveries, self.roster.load(), event)

    def notify_case_opened(self, event: Event) -> None:
        """Kept for callers of the walking skeleton: the same as any consumed event."""
        self.handle_event(event)

    # -- channel workers (one timer each: a slow channel holds up no other) ------------------------
    def _drain(self, name: str) -> None:
        channel = self.channels.channels.get(name)
        if channel is not None:
            dispatch.drain(self.store, channel, self.channels.config)

    @timer(interval=DRAIN_S)
    def drain_email(self) -> None:
        self._drain("email")

    @timer(interval=DRAIN_S)
    def drain_sms(self) -> None:
        self._drain("sms")

    @timer(interval=DRAIN_S)
    def drain_webhook(self) -> None:
        self._drain("webhook")

    @timer(interval=DRAIN_S)
    def drain_topic(self) -> None:
        self._drain("topic")

    @timer(interval=DIGEST_TICK_S, eager=True)
    def digest_tick(self) -> None:
        handlers.daily_digest(self.store, self.deliveries, self.roster.load(), self.store.clock.now())

    # -- HTTP: deliveries and inbox ---------------------------------------------------------------
    def _rows_out(self, rows: list[dict[str, Any]], view: RosterView) -> list[dict[str, Any]]:
        people = view.people
        return [
            {
                "delivery_id": r["delivery_id"],
                "recipient_person_id": r["recipient_person_id"],
                "recipient_name": people.get(r["recipient_person_id"], {}).get("name", ""),
                "channel": r["channel"],
                "channel_label": CHANNEL_LABELS.get(r["channel"], r["channel"]),
                "subject": r["subject"],
                "body": r["body"],
                "source_event_id": r["source_event_id"],
                "source_type": r["source_type"],
                "recorded_at": r["recorded_at"],
            }
            for r in rows
        ]

    @http("GET", "/api/deliveries")
    @api(SERVICE, "/api/deliveries")
    def list_deliveries(self, request: Request) -> Response:
        query = load(DeliveriesQuery(), request.args.to_dict())
        view = self.roster.load()
        rows = self._scoped_rows(access_of(request), query, view)
        return json_response({"deliveries": self._rows_out(rows, view)})

    @http("GET", "/api/inbox")
    @api(SERVICE, "/api/inbox")
    def inbox(self, request: Request) -> Response:
        """站内消息: the caller's own inbox, whatever the role (the token's person)."""
        query = load(InboxQuery(), request.args.to_dict())
        me = access_of(request).principal.subject
        rows = self.deliveries.latest(me, limit=query["limit"])
        return json_response({"messages": self._rows_out(rows, self.roster.load())})

    def _scoped_rows(self, access: Access, query: dict[str, Any], view: RosterView) -> list[dict[str, Any]]:
        """The delivery rows the caller may see: a member unit its own; grid staff and community
        offices those to the people of their community (by the roster copy); a street office its
        street's; the district office and the auditor any (optionally one street)."""
        principal = access.principal
        recipients: set[str] | None = None
        street = ""
        if access.scope is Scope.SELF:
            recipients = {principal.subject}
        else:
            street = access.list_street(query.get("street_id", ""))
            if access.scope is Scope.COMMUNITY:
                recipients = {pid for pid, p in view.people.items()
                              if p.get("street_id") == street and p.get("community_id") == principal.community}
        wanted = query["recipient_id"]
        if wanted and recipients is not None and wanted not in recipients:
            raise Forbidden("recipient_out_of_scope", "无权查看发给该人员的通知")
        rows = self.deliveries.latest(wanted, street_id=street, recipients=recipients)

        def community(row: dict[str, Any]) -> str:
            return str(view.people.get(row["recipient_person_id"], {}).get("community_id", ""))

        # the query already did it; this keeps a future query change from widening the scope
        return [r for r in rows if access.allows(r["street_id"], community(r), r["recipient_person_id"])]

    # -- HTTP: outbound deliveries (dead letters visible) -----------------------------------------
    @http("GET", "/api/notification/outbox")
    @api(SERVICE, "/api/notification/outbox")
    def list_outbox(self, request: Request) -> Response:
        """Outbound deliveries of the caller's street(s): pending, sent or dead (发送失败)."""
        query = load(OutboxQuery(), request.args.to_dict())
        street = access_of(request).list_street(query["street_id"])
        channels = [query["channel"]] if query.get("channel") else list(OUTBOUND_CHANNELS)
        states = [query["state"]] if query.get("state") else list(STATES)
        rows = handlers.book_of(self.store).outbox.listing(channels, states, street)
        keep = ("delivery_id", "channel", "state", "attempts", "last_error", "source_event_id", "source_type",
                "street_id", "recipient_kind", "recipient_id", "subject", "created_at", "sent_at")
        out = [{**{k: r.get(k, "") for k in keep}, "channel_label": CHANNEL_LABELS[r["channel"]],
                "state_label": STATES[r["state"]]} for r in rows]
        return json_response({"deliveries": out})

    # -- HTTP: contacts ---------------------------------------------------------------------------
    @http("PUT", "/api/notification/contacts/<string:person_id>")
    @api(SERVICE, "/api/notification/contacts/<id>")
    def set_contact(self, request: Request, person_id: str) -> Response:
        """A person's e-mail address for notifications, set by the office of the person's street."""
        access = access_of(request)
        body = load(ContactBody(), read_json(request))
        person = self.roster.load().people.get(person_id)
        if person is None or not access.allows(person["street_id"]):
            raise NotFound(f"人员 {person_id}")
        saved = handlers.book_of(self.store).contacts.set_email(
            person_id, person["street_id"], body["email"], access.actor, self.store.clock.now().isoformat())
        return json_response(saved)

    # -- HTTP: agency subscriptions ---------------------------------------------------------------
    @http("POST", "/api/subscriptions")
    @api(SERVICE, "/api/subscriptions")
    def create_subscription(self, request: Request) -> Response:
        """Subscribe an agency; the answer carries the webhook secret, once (never shown again)."""
        access = access_of(request)
        body = load(SubscriptionBody(), read_json(request))
        streets = sorted(set(body["street_ids"]))
        if access.scope is not Scope.ALL:
            own = access.write_street()
            if any(s != own for s in streets):
                raise Forbidden("street_out_of_scope", "只能为本街道订阅")
            streets = [own]
        elif not streets:
            raise validation_error({"street_ids": ["请至少指定一个街道"]}, SubscriptionBody())
        if body["personal_data"] and access.principal.role != DISTRICT_OFFICE:
            raise Forbidden("personal_data_not_granted", "只有区处非办可以授权接收个人信息")
        if (body["mode"] == "webhook") != bool(body["url"]):
            raise validation_error({"url": ["网络回调（Webhook）订阅须填写；Kafka 主题订阅不填"]}, SubscriptionBody())
        sid = subs.new_id()
        doc = {
            "subscription_id": sid, "agency": body["agency"], "name": body["name"],
            "event_types": sorted(set(body["event_types"])), "street_ids": streets, "mode": body["mode"],
            "url": body["url"], "topic": subs.topic_of(sid) if body["mode"] == "topic" else "",
            "personal_data": body["personal_data"], "by": access.actor,
        }
        event = new_event("subscription.created", subs.subscription_stream(sid), streets[0], doc,
                          actor=access.actor, occurred_at=self.store.clock.now())
        self.store.append(subs.subscription_stream(sid), 0, [event])
        secret = subs.new_secret() if body["mode"] == "webhook" else ""
        book = handlers.book_of(self.store)
        book.subscriptions.save({**doc, "secret": secret, "active": True, "created_at": event.occurred_at})
        return json_response({**subs.public_view(book.subscriptions.get(sid) or {}), "secret": secret}, 201)

    @http("GET", "/api/subscriptions")
    @api(SERVICE, "/api/subscriptions")
    def list_subscriptions(self, request: Request) -> Response:
        query = load(SubscriptionsQuery(), request.args.to_dict())
        street = access_of(request).list_street(query["street_id"])
        rows = handlers.book_of(self.store).subscriptions.listing(street, query["agency"])
        return json_response({"subscriptions": rows})

    @http("DELETE", "/api/subscriptions/<string:subscription_id>")
    @api(SERVICE, "/api/subscriptions/<id>")
    def cancel_subscription(self, request: Request, subscription_id: str) -> Response:
        access = access_of(request)
        book = handlers.book_of(self.store)
        doc = book.subscriptions.get(subscription_id)
        if doc is None or not all(access.allows(s) for s in doc["street_ids"]):
            raise NotFound(f"订阅 {subscription_id}")
        if doc["active"]:
            stream = subs.subscription_stream(subscription_id)
            version = len(self.store.events.read_stream(stream))
            event = new_event("subscription.cancelled", stream, doc["street_ids"][0],
                              {"subscription_id": subscription_id, "by": access.actor},
                              actor=access.actor, occurred_at=self.store.clock.now())
            self.store.append(stream, version, [event])
            book.subscriptions.cancel(subscription_id, event.occurred_at)
        return json_response(subs.public_view(book.subscriptions.get(subscription_id) or {}))
