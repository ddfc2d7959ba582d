"""Intake (受理): clues and ledger records enter the platform here, over HTTP.

Entrypoints translate; handlers decide. See README.md for the API."""

from __future__ import annotations

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from fangfei.clock import SystemClock
from fangfei.http import HttpError, NotFound, api, json_response, load, read_json
from fangfei.service_base import PlatformService

from . import handlers
from .schemas import ReportClueRequest

SERVICE = "intake"


class IntakeService(PlatformService):
    name = SERVICE
    clock = SystemClock()

    @http("POST", "/api/clues")
    @api(SERVICE, "/api/clues")
    def report_clue(self, request: Request) -> Response:
        body = read_json(request, self.store.settings.max_body_bytes)
        command = load(ReportClueRequest(), body)
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and not (1 <= len(key) <= 128):
            raise HttpError(400, "invalid_idempotency_key", "Idempotency-Key 长度须为 1–128")
        actor = command.get("reported_by") or "anonymous"
        try:
            accepted = handlers.report_clue(self.store, self.clock, command, actor, key)
        except handlers.ClueRejected as exc:
            raise HttpError(400, "validation_failed", "输入校验未通过", {exc.field: [str(exc)]}) from exc
        body_out = {
            "clue_id": accepted.clue_id,
            "event_id": accepted.event.event_id,
            "recorded_at": accepted.event.recorded_at,
            "created": accepted.created,
        }
        return json_response(body_out, 201 if accepted.created else 200)

    @http("GET", "/api/clues/<string:clue_id>")
    @api(SERVICE, "/api/clues/<id>")
    def get_clue(self, request: Request, clue_id: str) -> Response:
        events = handlers.get_clue(self.store, clue_id)
        if not events:
            raise NotFound(f"线索 {clue_id}")
        first = events[0]
        return json_response(
            {
                "clue_id": clue_id,
                "street_id": first.street_id,
                "version": events[-1].stream_version,
                "clue": first.payload,
                "events": [{"type": e.type, "version": e.stream_version, "recorded_at": e.recorded_at} for e in events],
            }
        )
