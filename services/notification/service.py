"""Notification (通知): tells people what they must do, and keeps a log of every delivery.

Entrypoints translate; handlers decide. See README.md for the API."""

from __future__ import annotations

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from fangfei.bus.entrypoint import event_handler
from fangfei.events import Event
from fangfei.http import api, json_response, load
from fangfei.roster_view import RosterReplica
from fangfei.service_base import PlatformService
from fangfei.vocab import DELIVERY_CHANNELS

from . import handlers
from .deliveries import DeliveryLog
from fangfei.dependencies import PerProcess, on_roster_events
from .schemas import DeliveriesQuery

SERVICE = "notification"


class NotificationService(PlatformService):
    name = SERVICE
    roster = PerProcess(RosterReplica)
    deliveries = PerProcess(DeliveryLog)

    @on_roster_events
    def apply_roster_event(self, event: Event) -> None:
        """Keep our own copy of the roster: recipients' and communities' names."""
        self.roster.add(event)

    @event_handler("escalation", "case.opened")
    def notify_case_opened(self, event: Event) -> None:
        handlers.notify_case_opened(self.store, self.deliveries, self.roster.load(), event)

    @http("GET", "/api/deliveries")
    @api(SERVICE, "/api/deliveries")
    def list_deliveries(self, request: Request) -> Response:
        query = load(DeliveriesQuery(), request.args.to_dict())
        people = self.roster.load().people
        rows = self.deliveries.latest(query["recipient_id"])
        items = [
            {
                "delivery_id": r["delivery_id"],
                "recipient_person_id": r["recipient_person_id"],
                "recipient_name": people.get(r["recipient_person_id"], {}).get("name", ""),
                "channel": r["channel"],
                "channel_label": DELIVERY_CHANNELS.get(r["channel"], r["channel"]),
                "subject": r["subject"],
                "body": r["body"],
                "source_event_id": r["source_event_id"],
                "source_type": r["source_type"],
                "recorded_at": r["recorded_at"],
            }
            for r in rows
        ]
        return json_response({"deliveries": items})
