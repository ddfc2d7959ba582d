"""Escalation (分派与督办): the case workflow with its SLA clocks, report obligations, risk
screening and risk enterprises. Entrypoints translate; handlers decide. See README.md.

Every route is gated by `@api` (token, role, scope: fangfei.auth.policy) and scoped here with
`access_of(request)`: a case or enterprise outside the caller's street (or community) answers 404,
a listing naming another street 403; who acts is the token's person, the street of a command the
token's street (scoping.py). docs/security.md, "Applying access control to a service"."""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import datetime, time, timedelta
from typing import Any

import eventlet
from nameko.timer import timer
from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from fangfei.bus.entrypoint import event_handler
from fangfei.auth.policy import Scope
from fangfei.clock import SHANGHAI
from fangfei.dependencies import PerProcess, on_roster_events
from fangfei.events import Event
from fangfei.events.fields import ID_PATTERN
from fangfei.http import HttpError, NotFound, access_of, api, json_response, load, read_json, validation_error
from fangfei.risk import default_indicators, screen
from fangfei.roster_view import RosterReplica
from fangfei.service_base import PlatformService
from fangfei.workdays import default_calendar

from . import handlers, metric_series, projections, schemas, scoping
from .clock import clock_from_env
from .domain.case import Case
from .domain.errors import CommandRefused, InvalidCommand, WorkflowError
from .domain.obligations import DEFAULT_REMINDER_LEAD_H, phase_due
from .domain.vocabulary import ACTION_LABELS, RISK_TAG_LABELS
from .domain.workflow import allowed_actions
from .scanner import scan

SERVICE = "escalation"
SCAN_INTERVAL_ENV = "FANGFEI_SLA_SCAN_INTERVAL_S"


def _scan_interval() -> float:
    raw = os.environ.get(SCAN_INTERVAL_ENV, "") or "30"
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{SCAN_INTERVAL_ENV} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{SCAN_INTERVAL_ENV} must be positive, got {raw!r}")
    return value


REMINDER_LEAD_ENV = "FANGFEI_OBLIGATION_REMINDER_LEAD_H"


def _reminder_lead_h() -> int:
    """Hours before a report's deadline its responsible person is reminded (whole hours, 1–720):
    read once at start, like the scan interval, so every pass of a process uses the same lead."""
    raw = os.environ.get(REMINDER_LEAD_ENV, "") or str(DEFAULT_REMINDER_LEAD_H)
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{REMINDER_LEAD_ENV} must be a whole number of hours, got {raw!r}") from None
    if not 1 <= value <= 720:
        raise ValueError(f"{REMINDER_LEAD_ENV} must be between 1 and 720 hours, got {raw!r}")
    return value


SCAN_INTERVAL_S = _scan_interval()
REMINDER_LEAD_H = _reminder_lead_h()
_ID = re.compile(ID_PATTERN)
log = logging.getLogger(__name__)
# this process's deadline scanner: completed passes and the instant the last one decided at
SCANS: dict[str, Any] = {"passes": 0, "last_pass_now": ""}


def _query(request: Request) -> dict[str, Any]:
    return {k: v for k, v in request.args.items()}


class EscalationService(PlatformService):
    name = SERVICE
    roster = PerProcess(RosterReplica)
    read_models = PerProcess(projections.ReadModels)
    clock = clock_from_env()

    # -- wiring -----------------------------------------------------------------------------
    def _deps(self) -> handlers.Deps:
        return handlers.Deps(self.store, self.clock, self.roster.load(), default_calendar(), default_indicators(),
                             reminder_lead_h=REMINDER_LEAD_H)

    def _now(self) -> datetime:
        return self.clock.now().astimezone(SHANGHAI)

    @http("GET", "/health")
    def health(self, request: Request) -> Response:
        """The platform's health, plus the instant this service's clock reads (`clock.now`) and
        whether it is simulated (FANGFEI_CLOCK_START / FANGFEI_CLOCK_OFFSET_S, clock.py), and this
        process's deadline scanner (`scanner.passes`, `scanner.last_pass_now`): a test driving
        simulated time reads where the clock and the scanner stand instead of guessing."""
        resp = super().health(request)
        body = json.loads(resp.get_data())
        describe = getattr(self.clock, "describe", None)
        body["clock"] = describe() if describe else {"now": self.clock.now().isoformat(), "simulated": True}
        body["scanner"] = dict(SCANS)  # everything due by `last_pass_now` is recorded by this process
        return json_response(body, resp.status_code)

    def _case_body(self, case: Case, events: list[Event]) -> dict[str, Any]:
        now = self._now()
        view = self.roster.load()
        body = case.as_dict(now)
        body["community_name"] = view.communities.get(case.community_id, {}).get("name", "")
        body["assignee_name"] = view.people.get(case.assignee_person_id, {}).get("name", "")
        body["allowed_actions"] = [{"action": a, "label": ACTION_LABELS[a]} for a in allowed_actions(case, now)]
        body["events"] = [{"type": e.type, "version": e.stream_version, "recorded_at": e.recorded_at} for e in events]
        return body

    def _refusal(self, exc: WorkflowError, case_id: str, street_id: str | None) -> HttpError:
        """409 for a step the state machine forbids (with the current state and what is allowed),
        400 for a command lacking something."""
        if isinstance(exc, InvalidCommand):
            return HttpError(400, exc.code, exc.message)
        details: dict[str, Any] = {}
        try:
            case, _ = handlers.case_in_street(self.store, case_id, street_id)
            now = self._now()
            details = {"status": case.status, "status_label": case.status_label,
                       "allowed_actions": [{"action": a, "label": ACTION_LABELS[a]} for a in allowed_actions(case, now)]}
        except handlers.NotFoundError:
            pass
        return HttpError(409, exc.code, exc.message, details)

    # -- events -----------------------------------------------------------------------------
    @on_roster_events
    def apply_roster_event(self, event: Event) -> None:
        """Keep our own copy of the roster (services never ask the roster service); a street
        becoming known gets its metric series at zero (metric_series.py)."""
        self.roster.add(event)
        metric_series.prime_street(event.street_id)
        if event.type in handlers.ROSTER_CHANGES:
            handlers.reroute_waiting(self._deps(), event.street_id)

    @event_handler("intake", "clue.reported")
    def open_case(self, event: Event) -> None:
        metric_series.prime_street(event.street_id)
        handlers.open_case(self._deps(), event)

    @timer(interval=SCAN_INTERVAL_S)
    def scan_deadlines(self) -> None:
        """Warn, breach and escalate what is due; record missed and soon-due reports; set the gauges."""
        deps = self._deps()
        for street in deps.roster.streets:  # after a restart no roster event may come for a while
            metric_series.prime_street(street)
        report = scan(deps, pause=lambda: eventlet.sleep(0))
        SCANS["passes"] += 1
        SCANS["last_pass_now"] = report.now.isoformat() if report.now else ""
        if report.breached or report.missed or report.warned or report.reminded:
            log.info("deadline scan: %s warned, %s breached, %s missed, %s reminded",
                     report.warned, report.breached, report.missed, report.reminded)

    # -- cases ------------------------------------------------------------------------------
    @http("GET", "/api/cases/<string:case_id>")
    @api(SERVICE, "/api/cases/<id>")
    def get_case(self, request: Request, case_id: str) -> Response:
        load(schemas.StreetQuery(), _query(request))  # no other query parameters
        case, events = self._case_in_scope(request, case_id)
        return json_response(self._case_body(case, events))

    def _case_in_scope(self, request: Request, case_id: str) -> tuple[Case, list[Event]]:
        """The case, if the caller may see it; another street's (or community's) case is a 404,
        exactly like a missing one."""
        if not _ID.match(case_id):
            raise NotFound(f"案件 {case_id}")
        case, events = handlers.get_case(self.store, case_id)
        if case is None or not access_of(request).allows(case.street_id, case.community_id):
            raise NotFound(f"案件 {case_id}")
        return case, events

    @http("GET", "/api/cases")
    @api(SERVICE, "/api/cases")
    def list_cases(self, request: Request) -> Response:
        q = load(schemas.CaseListQuery(), _query(request))
        access = access_of(request)
        q["street_id"] = scoping.read_street(access, q["street_id"])
        community = access.list_community(q["community_id"])
        now = self._now().timestamp()
        rows = []
        for d in projections.cases_of_street(self.store.db, q["street_id"] or None):
            if community and d["community_id"] != community:
                continue
            overdue = d.get("overdue_since") is not None and d["overdue_since"] <= now and d.get("open")
            if q["status"] and d["status"] != q["status"]:
                continue
            if q["level"] and d["level"] != q["level"]:
                continue
            if q["overdue"] is not None and bool(overdue) != q["overdue"]:
                continue
            if q["open"] is not None and d["open"] != q["open"]:
                continue
            row = {k: v for k, v in d.items() if not k.endswith("_epoch") and k not in ("next_check", "overdue_since")}
            row["case_id"] = row.pop("_id")
            row["overdue"] = bool(overdue)
            rows.append(row)
        return json_response({"street_id": q["street_id"], "total": len(rows), "cases": rows})

    @http("POST", "/api/cases/<string:case_id>/<string:action>")
    @api(SERVICE, "/api/cases/<id>/<action>")
    def act(self, request: Request, case_id: str, action: str) -> Response:
        if action not in schemas.ACTIONS:
            raise HttpError(404, "unknown_action", f"未知操作：{action}",
                            {"actions": sorted(schemas.ACTIONS)})
        domain_action, schema = schemas.ACTIONS[action]
        body = load(schema(), read_json(request, self.store.settings.max_body_bytes))
        reason = body.pop("reason", "")
        access = access_of(request)
        current, _ = self._case_in_scope(request, case_id)
        scoping.check_case_action(access, current, domain_action)
        try:
            case, recorded = handlers.act(self._deps(), case_id, current.street_id, domain_action, access.actor,
                                          reason, body)
        except handlers.NotFoundError:
            raise NotFound(f"案件 {case_id}") from None
        except WorkflowError as exc:
            raise self._refusal(exc, case_id, current.street_id) from exc
        _, events = handlers.get_case(self.store, case_id)
        out = self._case_body(case, events)
        out["recorded"] = [{"type": e.type, "version": e.stream_version} for e in recorded]
        return json_response(out)

    # -- report obligations -----------------------------------------------------------------
    @http("GET", "/api/obligations")
    @api(SERVICE, "/api/obligations")
    def list_obligations(self, request: Request) -> Response:
        q = load(schemas.ObligationQuery(), _query(request))
        access = access_of(request)
        q["street_id"] = scoping.read_street(access, q["street_id"], required=True)
        q["unit_id"] = access.list_community(q.get("unit_id") or "")
        if q["end"] < q["start"] or (q["end"] - q["start"]).days > 366:
            raise validation_error({"to": ["须不早于开始日期，且与开始日期相隔不超过 1 年"]}, schemas.ObligationQuery())
        start = datetime.combine(q["start"], time(0), tzinfo=SHANGHAI) - timedelta(seconds=1)
        end = datetime.combine(q["end"], time(23, 59, 59), tzinfo=SHANGHAI)
        rows = handlers.list_obligations(self._deps(), q["street_id"], start, end, q.get("unit_id") or None, q["kind"])
        return json_response({"street_id": q["street_id"], "total": len(rows), "obligations": rows})

    @http("POST", "/api/obligations/<string:obligation_id>/submission")
    @api(SERVICE, "/api/obligations/<id>/submission")
    def submit_obligation(self, request: Request, obligation_id: str) -> Response:
        body = load(schemas.SubmitObligationRequest(), read_json(request, self.store.settings.max_body_bytes))
        access = access_of(request)
        street = scoping.command_street(access, body["street_id"])
        community = access.principal.community if access.scope is Scope.COMMUNITY else None
        try:
            row = handlers.submit_obligation(self._deps(), street, obligation_id, access.actor,
                                             body.get("summary", ""), community=community)
        except handlers.NotFoundError:
            raise NotFound(f"报送义务 {obligation_id}") from None
        except InvalidCommand as exc:
            raise HttpError(400, exc.code, exc.message) from exc
        except CommandRefused as exc:
            raise HttpError(409, exc.code, exc.message) from exc
        return json_response(row, 201)

    @http("POST", "/api/campaigns")
    @api(SERVICE, "/api/campaigns")
    def define_campaign(self, request: Request) -> Response:
        body = load(schemas.CampaignRequest(), read_json(request, self.store.settings.max_body_bytes))
        access = access_of(request)
        street = scoping.command_street(access, body["street_id"])
        try:
            phases = [{**ph, "due_at": phase_due(ph["due_at"])} for ph in body["phases"]]
            campaign = handlers.define_campaign(self._deps(), street, body["campaign_id"], body["name"],
                                                phases, body["community_ids"], access.actor)
        except InvalidCommand as exc:
            raise HttpError(400, exc.code, exc.message) from exc
        except CommandRefused as exc:
            raise HttpError(409, exc.code, exc.message) from exc
        return json_response(_campaign_body(campaign), 201)

    @http("GET", "/api/campaigns")
    @api(SERVICE, "/api/campaigns")
    def list_campaigns(self, request: Request) -> Response:
        q = load(schemas.StreetQuery(), _query(request))
        street = scoping.read_street(access_of(request), q["street_id"], required=True)
        campaigns = handlers.campaigns_of(self._deps(), street).values()
        return json_response({"street_id": street, "campaigns": [_campaign_body(c) for c in campaigns]})

    # -- enterprises and risk -----------------------------------------------------------------
    @http("GET", "/api/enterprises")
    @api(SERVICE, "/api/enterprises")
    def list_enterprises(self, request: Request) -> Response:
        q = load(schemas.EnterpriseListQuery(), _query(request))
        q["street_id"] = scoping.read_street(access_of(request), q["street_id"])
        rows = []
        for d in projections.enterprises_of_street(self.store.db, q["street_id"] or None):
            if q["tag"] and d.get("tag") != q["tag"]:
                continue
            if q["cross_street"] is not None and bool(d.get("other_streets")) != q["cross_street"]:
                continue
            rows.append({k: v for k, v in d.items() if k != "_id"} | {"tag_label": RISK_TAG_LABELS.get(d.get("tag", ""), "未挂牌")})
        return json_response({"street_id": q["street_id"], "total": len(rows), "enterprises": rows})

    @http("GET", "/api/enterprises/<string:credit_code>")
    @api(SERVICE, "/api/enterprises/<code>")
    def get_enterprise(self, request: Request, credit_code: str) -> Response:
        q = load(schemas.StreetQuery(), _query(request))
        street = scoping.read_street(access_of(request), q["street_id"], required=True)
        try:
            ent = handlers.get_enterprise(self._deps(), street, credit_code.upper()[:30])
        except handlers.NotFoundError:
            raise NotFound(f"企业 {credit_code}") from None
        return json_response(ent.as_dict(self._now()))

    @http("POST", "/api/enterprises")
    @api(SERVICE, "/api/enterprises")
    def register_enterprise(self, request: Request) -> Response:
        body = load(schemas.EnterpriseRequest(), read_json(request, self.store.settings.max_body_bytes))
        access = access_of(request)
        street = scoping.command_street(access, body["street_id"])
        try:
            code = handlers.validate_credit_code(body["credit_code"])
        except InvalidCommand as exc:
            raise validation_error({"credit_code": [exc.message]}, schemas.EnterpriseRequest()) from exc
        ent = handlers.record_enterprise(self._deps(), street, code, source="manual", name=body.get("name", ""),
                                         address=body.get("address", ""), movement=body["movement"], by=access.actor)
        return json_response(ent.as_dict(self._now()), 201)

    @http("POST", "/api/enterprises/<string:credit_code>/<string:what>")
    @api(SERVICE, "/api/enterprises/<code>/<what>")
    def change_enterprise(self, request: Request, credit_code: str, what: str) -> Response:
        if what not in ("tag", "plan"):
            raise HttpError(404, "unknown_action", f"未知操作：{what}", {"actions": ["plan", "tag"]})
        raw = read_json(request, self.store.settings.max_body_bytes)
        code = credit_code.upper()[:30]
        access = access_of(request)
        body = load(schemas.TagRequest() if what == "tag" else schemas.PlanRequest(), raw)
        street = scoping.command_street(access, body["street_id"])
        try:
            if what == "tag":
                ent = handlers.tag_enterprise(self._deps(), street, code, body["tag"], body["reason"], access.actor)
            else:
                ent = handlers.set_plan(self._deps(), street, code, body["measures"],
                                        body["responsible_person_id"], body["leader_person_id"],
                                        phase_due(body["deadline"]), access.actor)
        except handlers.NotFoundError:
            raise NotFound(f"企业 {credit_code}") from None
        except InvalidCommand as exc:
            raise HttpError(400, exc.code, exc.message) from exc
        return json_response(ent.as_dict(self._now()))

    @http("POST", "/api/risk/screen")
    @api(SERVICE, "/api/risk/screen")
    def screen_risk(self, request: Request) -> Response:
        """A preview: the score a clue with this text would get (nothing is recorded)."""
        body = load(schemas.ScreenRequest(), read_json(request, self.store.settings.max_body_bytes))
        a = screen(body, default_indicators())
        return json_response({"score": a.score, "suggested_tag": a.tag, "suggested_tag_label": a.tag_label,
                              "explanation": a.explanation(), "hits": [h.as_dict() for h in a.hits],
                              "features": list(a.features), "indicators_version": a.version,
                              "credit_code": a.credit_code, "credit_code_valid": a.credit_code_valid})

    @http("GET", "/api/risk/indicators")
    @api(SERVICE, "/api/risk/indicators")
    def risk_indicators(self, request: Request) -> Response:
        ind = default_indicators()
        return json_response({"version": ind.version, "thresholds": {"red": ind.red, "yellow": ind.yellow},
                              "indicators": [{"id": i.id, "label": i.label, "weight": i.weight, "feature": i.feature}
                                             for i in ind.indicators]})

    @http("GET", "/api/assessment")
    @api(SERVICE, "/api/assessment")
    def assessment(self, request: Request) -> Response:
        q = load(schemas.StreetQuery(), _query(request))
        street = scoping.read_street(access_of(request), q["street_id"], required=True)
        return json_response({"street_id": street, "people": handlers.assessment(self._deps(), street)})


def _campaign_body(c: Any) -> dict[str, Any]:
    return {"campaign_id": c.campaign_id, "name": c.name, "street_id": c.street_id,
            "community_ids": list(c.community_ids), "defined_at": c.defined_at.isoformat(),
            "phases": [{"phase_id": p.phase_id, "name": p.name, "due_at": p.due_at.isoformat()} for p in c.phases]}
