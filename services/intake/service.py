"""Intake (受理): clues and ledger records enter the platform here, over HTTP; reporter identities
are sealed here and nowhere else.

Entrypoints translate; handlers decide. Every endpoint is admitted by `@api` (token, rate limit,
policy: docs/security.md) and scopes what it touches with `access_of(request)`. See README.md."""

from __future__ import annotations

import re
from typing import Any

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from fangfei.auth.access import Forbidden
from fangfei.auth.policy import Scope
from fangfei.clock import SystemClock
from fangfei.events.fields import ID_PATTERN
from fangfei.events.intake import ERASURE_REASONS, IDENTITY_READ_REASONS
from fangfei.http import HttpError, NotFound, access_of, api, json_response, load, read_json, validation_error
from fangfei.service_base import PlatformService

from . import handlers
from .schemas import RECORD_REQUESTS, ReasonRequest, ReportClueRequest
from .vault import VaultEntry, VaultProvider, VaultUnavailable

SERVICE = "intake"
_ID = re.compile(ID_PATTERN)
TOMBSTONE = "［已删除］"
STATE_LABELS = {"on_file": "已存档", "erased": "已依法删除", "unreadable": "无法解密（数据可能被篡改）"}


def _event_summary(events: list[Any]) -> list[dict[str, Any]]:
    return [{"type": e.type, "version": e.stream_version, "recorded_at": e.recorded_at} for e in events]


class IntakeService(PlatformService):
    name = SERVICE
    clock = SystemClock()
    vault = VaultProvider()

    @http("POST", "/api/clues")
    @api(SERVICE, "/api/clues")
    def report_clue(self, request: Request) -> Response:
        access = access_of(request)
        street = access.write_street()
        body = read_json(request, self.store.settings.max_body_bytes)
        command = load(ReportClueRequest(now=self.clock.now()), body)
        access.check_community(command["community_id"])
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and not (1 <= len(key) <= 128):
            raise HttpError(400, "invalid_idempotency_key", "Idempotency-Key 长度须为 1–128")
        try:
            accepted = handlers.report_clue(self.store, self.vault, self.clock, command, street, access.actor, key)
        except handlers.ClueRejected as exc:
            raise validation_error({exc.field: [str(exc)]}, ReportClueRequest()) from exc
        except VaultUnavailable as exc:
            raise HttpError(503, "vault_unavailable", "举报人身份库暂不可用，请稍后重试或匿名上报") from exc
        body_out = {
            "clue_id": accepted.clue_id,
            "event_id": accepted.event.event_id,
            "recorded_at": accepted.event.recorded_at,
            "created": accepted.created,
            "reporter_id": accepted.event.payload.get("reporter_id", ""),
        }
        return json_response(body_out, 201 if accepted.created else 200)

    @http("POST", "/api/records/<string:kind>")
    @api(SERVICE, "/api/records/<kind>")
    def record(self, request: Request, kind: str) -> Response:
        """A typed ledger record (日常监管、宣传、信访…), or an update of one (same record_id)."""
        access = access_of(request)
        street = access.write_street()
        entry = RECORD_REQUESTS.get(kind)
        if entry is None:
            raise NotFound(f"记录类型 {kind}")
        event_type, schema = entry
        command = load(schema(), read_json(request, self.store.settings.max_body_bytes))
        access.check_community(command["community_id"])
        own = access.principal.community if access.scope is Scope.COMMUNITY else None
        try:
            accepted = handlers.record(self.store, self.clock, event_type, command, street, access.actor, own)
        except handlers.RecordRejected as exc:
            raise HttpError(exc.status, exc.code, str(exc)) from exc
        return json_response({
            "record_id": accepted.record_id,
            "type": event_type,
            "version": accepted.event.stream_version,
            "event_id": accepted.event.event_id,
            "recorded_at": accepted.event.recorded_at,
            "created": accepted.created,
        }, 201 if accepted.created else 200)

    @http("GET", "/api/clues/<string:clue_id>")
    @api(SERVICE, "/api/clues/<id>")
    def get_clue(self, request: Request, clue_id: str) -> Response:
        access = access_of(request)
        events = handlers.get_clue(self.store, clue_id) if _ID.match(clue_id) else []
        if not events or not access.allows(events[0].street_id, events[0].payload["community_id"]):
            raise NotFound(f"线索 {clue_id}")  # another street's clue looks exactly like a missing one
        first = events[0]
        return json_response(
            {
                "clue_id": clue_id,
                "street_id": first.street_id,
                "version": events[-1].stream_version,
                "clue": first.payload,
                "events": _event_summary(events),
            }
        )

    # -- reporter protection (举报人保护) ----------------------------------------------------------
    def _reporter(self, request: Request, reporter_id: str) -> VaultEntry:
        """The vault entry of `reporter_id` if it exists and is in the caller's scope (else 404)."""
        entry = self.vault.locate(reporter_id) if _ID.match(reporter_id) else None
        if entry is None or not access_of(request).allows(entry.street_id):
            raise NotFound(f"举报人 {reporter_id}")
        return entry

    def _reason(self, request: Request, approved: dict[str, str]) -> tuple[str, str]:
        body = load(ReasonRequest(), read_json(request, self.store.settings.max_body_bytes))
        if body.get("reason") not in approved:
            raise Forbidden("reason_not_approved", "须说明经批准的事由：" + "、".join(
                f"{code}（{label}）" for code, label in approved.items()))
        return body["reason"], body.get("reference", "")

    @http("POST", "/api/reporters/<string:reporter_id>/identity")
    @api(SERVICE, "/api/reporters/<id>/identity")
    def read_reporter_identity(self, request: Request, reporter_id: str) -> Response:
        """Read a reporter's identity: an approved reason, and an audit event recorded first."""
        access = access_of(request)
        reason, reference = self._reason(request, IDENTITY_READ_REASONS)
        entry = self._reporter(request, reporter_id)
        try:
            opened, audit = handlers.read_identity(self.store, self.vault, self.clock, entry, reason, reference,
                                                   access.actor, access.principal.role)
        except VaultUnavailable as exc:
            raise HttpError(503, "vault_unavailable", "举报人身份库暂不可用") from exc
        identity = opened.identity
        return json_response({
            "reporter_id": entry.reporter_id,
            "clue_id": entry.clue_id,
            "status": opened.state,
            "status_label": STATE_LABELS[opened.state],
            "identity": identity if identity is not None else {"name": TOMBSTONE, "phone": TOMBSTONE,
                                                               "id_number": TOMBSTONE},
            "erased_at": opened.entry.erased_at or None,
            "audit_event_id": audit.event_id,
        })

    @http("POST", "/api/reporters/<string:reporter_id>/erasure")
    @api(SERVICE, "/api/reporters/<id>/erasure")
    def erase_reporter_identity(self, request: Request, reporter_id: str) -> Response:
        """Erase a reporter's identity (crypto-shredding); the clue and every event stay."""
        access = access_of(request)
        reason, reference = self._reason(request, ERASURE_REASONS)
        entry = self._reporter(request, reporter_id)
        event = handlers.erase_identity(self.store, self.vault, self.clock, entry, reason, reference, access.actor)
        return json_response({
            "reporter_id": entry.reporter_id,
            "status": "erased",
            "status_label": "已依法删除",
            "erased": event is not None,  # False: it had been erased before
        })

    @http("GET", "/api/reporters/<string:reporter_id>/audit")
    @api(SERVICE, "/api/reporters/<id>/audit")
    def reporter_audit(self, request: Request, reporter_id: str) -> Response:
        """Who read or erased this identity, when and why (append-only: no route changes it)."""
        entry = self._reporter(request, reporter_id)
        trail = handlers.audit_trail(self.store, entry.reporter_id)
        return json_response({
            "reporter_id": entry.reporter_id,
            "clue_id": entry.clue_id,
            "records": [
                {"type": e.type, "version": e.stream_version, "recorded_at": e.recorded_at, "actor": e.actor,
                 "reason": e.payload["reason"],
                 "reason_label": (ERASURE_REASONS if e.type == "reporter.identity_erased" else IDENTITY_READ_REASONS)
                 .get(e.payload["reason"], ""),
                 "reference": e.payload.get("reference", ""),
                 "reader_role": e.payload.get("reader_role", ""), "disclosed": e.payload.get("disclosed")}
                for e in trail
            ],
        })
