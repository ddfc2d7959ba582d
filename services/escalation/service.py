"""Escalation (分派与督办): every reported clue becomes a case routed to the responsible grid chief,
with its registration deadline. Later issues add the rest of the workflow.

Entrypoints translate; handlers decide. See README.md for the API."""

from __future__ import annotations

import re

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from fangfei.bus.entrypoint import event_handler
from fangfei.events import Event
from fangfei.events.fields import ID_PATTERN
from fangfei.http import NotFound, api, json_response
from fangfei.roster_view import RosterReplica
from fangfei.service_base import PlatformService

from . import handlers
from fangfei.dependencies import PerProcess, on_roster_events

SERVICE = "escalation"
_ID = re.compile(ID_PATTERN)


class EscalationService(PlatformService):
    name = SERVICE
    roster = PerProcess(RosterReplica)

    @on_roster_events
    def apply_roster_event(self, event: Event) -> None:
        """Keep our own copy of the roster (services never ask the roster service)."""
        self.roster.add(event)

    @event_handler("intake", "clue.reported")
    def open_case(self, event: Event) -> None:
        handlers.open_case(self.store, self.roster.load(), event)

    @http("GET", "/api/cases/<string:case_id>")
    @api(SERVICE, "/api/cases/<id>")
    def get_case(self, request: Request, case_id: str) -> Response:
        case, events = handlers.get_case(self.store, case_id) if _ID.match(case_id) else (None, [])
        if case is None:
            raise NotFound(f"案件 {case_id}")
        view = self.roster.load()
        body = case.as_dict()
        body["community_name"] = view.communities.get(case.community_id, {}).get("name", "")
        body["assignee_name"] = view.people.get(case.assignee_person_id, {}).get("name", "")
        body["events"] = [
            {"type": e.type, "version": e.stream_version, "recorded_at": e.recorded_at} for e in events
        ]
        return json_response(body)
