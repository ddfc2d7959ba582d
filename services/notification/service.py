"""Notification (通知): tells people what they must do, and keeps a log of every delivery.

Entrypoints translate; handlers decide. The delivery log is admitted by `@api` (token, policy)
and scoped with `access_of(request)`: see `_scoped_rows`. See README.md for the API."""

from __future__ import annotations

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from fangfei.bus.entrypoint import event_handler
from fangfei.events import Event
from typing import Any

from fangfei.auth.access import Access, Forbidden
from fangfei.auth.policy import Scope
from fangfei.http import access_of, api, json_response, load
from fangfei.roster_view import RosterReplica, RosterView
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
        view = self.roster.load()
        people = view.people
        rows = self._scoped_rows(access_of(request), query, view)
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

