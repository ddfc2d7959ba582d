"""Escalation use cases: one function per command or query. No nameko, no HTTP here.

Every command follows the same shape: read the stream, fold it, let the domain decide, append
the decided changes at the version that was read (a concurrent writer makes the append fail
and the command is decided again on the fresh state), count the first-recorded facts in the
metrics, refresh the read model. Metrics are counted only here, where a fact is first appended,
never in code that runs again on a replay.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

from fangfei import metrics
from fangfei.clock import SHANGHAI, Clock, parse_iso
from fangfei.credit_code import InvalidCreditCode, parse as parse_credit_code
from fangfei.eventstore.provider import ServiceStore
from fangfei.eventstore.store import ConcurrencyConflict
from fangfei.events import Event, new_event
from fangfei.risk import Assessment, IndicatorSet, screen
from fangfei.roster_view import RosterView
from fangfei.workdays import WorkCalendar

from . import projections
from .domain.case import Case, at_of, fold
from .domain.deadlines import register_deadline
from .domain.enterprise import Enterprise, decide_flag, decide_plan, decide_sighting, decide_tag, fold_enterprise
from .domain.errors import CommandRefused, InvalidCommand
from .domain.obligations import (
    DEFAULT_REMINDER_LEAD_H, Campaign, Obligation, ObligationState, campaign_from_fact, decide_submission, due_between,
    fold_obligation, parse_obligation_id, phase_due,
)
from .domain.sla import decide_step
from .domain.workflow import Change, Command, Context
from .responsibility import CaseResponsibility, report_holder

ACTOR = "system:escalation"
ROUTING_NOTE_MAX = 300  # the cap of case.opened.routing_note
RETRIES = 3  # a command decided again after a concurrent write, at most this often


class NotFoundError(LookupError):
    """No such case/enterprise in this street (another street's ids are reported the same way)."""


@dataclass(frozen=True)
class Deps:
    """What the use cases need; the service builds it per worker, tests build it by hand."""

    store: ServiceStore
    clock: Clock
    roster: RosterView
    calendar: WorkCalendar
    indicators: IndicatorSet | None = None
    reminder_lead_h: int = DEFAULT_REMINDER_LEAD_H  # FANGFEI_OBLIGATION_REMINDER_LEAD_H


def case_stream(case_id: str) -> str:
    return f"case-{case_id}"


def enterprise_stream(street_id: str, credit_code: str) -> str:
    return f"enterprise-{street_id}.{credit_code}"


def _bounded(kind: str, key: str) -> str:
    """`<kind>-<key>`, or a stable hash of the key when it is longer than a stream id allows."""
    if len(key) > 120:
        key = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"{kind}-{key}"


def obligation_stream(street_id: str, oid: str) -> str:
    return _bounded("obligation", f"{street_id}:{oid}")


def tracking_stream(street_id: str, unit_id: str) -> str:
    return _bounded("obligations", f"{street_id}:{unit_id}")


def campaign_stream(street_id: str, campaign_id: str) -> str:
    return f"campaign-{street_id}:{campaign_id}"


def _clip(note: str, limit: int = ROUTING_NOTE_MAX) -> str:
    """Long grid names can make a vacancy chain longer than the contract allows; a clipped note
    is better than a case that is never opened."""
    return note if len(note) <= limit else note[: limit - 1] + "…"


def make_event(change: Change, stream_id: str, street_id: str, actor: str, clock: Clock, cause: Event | None = None) -> Event:
    return new_event(change.type, stream_id, street_id, change.payload, actor=actor, occurred_at=clock.now(), cause=cause)


def _actor(by: str) -> str:
    """The envelope actor: the person of the caller's token (their roster id), as in every service."""
    return by or ACTOR


def context_for(deps: Deps, case: Case) -> Context:
    return Context(CaseResponsibility(deps.roster, case.street_id, case.community_id, case.grid_id), deps.calendar)


# -- opening a case from a clue ----------------------------------------------------------------

def risk_payload(case_id: str, a: Assessment) -> dict[str, Any]:
    return {
        "case_id": case_id, "score": a.score, "suggested_tag": a.tag,
        "hits": [h.as_dict() for h in a.hits], "features": list(a.features), "indicators_version": a.version,
        "credit_code": a.credit_code,
        "credit_code_status": "absent" if a.credit_code_valid is None else "valid" if a.credit_code_valid else "invalid",
    }


def open_case(deps: Deps, clue: Event) -> Event | None:
    """Open the case of `clue`, route it and screen it; return the case.opened event, or None if
    the case was already opened (a redelivered clue: appending at version 0 is the guard).

    One case per clue, so the case id is the clue id. Routing uses the roster as it stood when the
    clue was found, so a replay routes the same way. The enterprise follow-up (sighting and
    cross-street flags) is idempotent on its own and runs on a redelivery too, so a crash between
    the two writes is repaired when the clue comes again."""
    store = deps.store
    p = clue.payload
    case_id = p["clue_id"]
    found_at = parse_iso(p["found_at"]).astimezone(SHANGHAI)
    route = deps.roster.route(clue.street_id, p["community_id"], found_at)
    assessment = screen(p, deps.indicators)
    opened = {
        "case_id": case_id, "clue_id": p["clue_id"], "community_id": p["community_id"], "grid_id": route.grid_id,
        "level": route.level, "assignee_person_id": route.person_id, "found_at": found_at.isoformat(),
        "register_deadline": register_deadline(found_at).isoformat(), "routing_note": _clip(route.note),
    }
    stream = case_stream(case_id)
    events = [make_event(Change("case.opened", opened), stream, clue.street_id, ACTOR, deps.clock, clue),
              make_event(Change("case.risk_screened", risk_payload(case_id, assessment)), stream, clue.street_id, ACTOR,
                     deps.clock, clue)]
    try:
        commit = store.append(stream, 0, events)
        result: Event | None = commit.events[0]
        projections.refresh_stream(store, stream, list(commit.events))
    except ConcurrencyConflict:
        result = None
    if assessment.credit_code:
        record_enterprise(deps, clue.street_id, assessment.credit_code, source="clue", name=p.get("subject_name", ""),
                          address=p.get("address", ""), clue_id=case_id, case_id=case_id, score=assessment.score,
                          suggested_tag=assessment.tag, cause=clue)
    return result


ROSTER_CHANGES = frozenset({"roster.community_registered", "roster.grid_registered", "roster.chief_assigned"})


def reroute_waiting(deps: Deps, street_id: str) -> list[Event]:
    """Route again the street's cases that went to nobody because their community was not in our
    roster copy when the clue came (「不在名册中」: the roster events had not reached us yet).

    Only a case still waiting for registration moves (nobody has acted on it); it is routed as the
    roster now says for the time the clue was found, recorded as `case.rerouted` at the version
    that was read. Idempotent: a case whose route would not change records nothing, so redelivered
    roster events and replays add nothing."""
    recorded: list[Event] = []
    for doc in projections.cases_awaiting_roster(deps.store.db, street_id):
        case, events = get_case(deps.store, doc["_id"])
        if case is None or case.status != "reported" or case.assignee_person_id:
            continue
        route = deps.roster.route(case.street_id, case.community_id, at_of(case.found_at))
        if not route.person_id:
            continue  # still nobody to route to: stays with the district office
        change = Change("case.rerouted", {
            "case_id": case.case_id, "from_level": case.level, "level": route.level, "grid_id": route.grid_id,
            "assignee_person_id": route.person_id, "routing_note": _clip(route.note),
            "at": deps.clock.now().astimezone(SHANGHAI).isoformat()})
        try:
            _, new = record_changes(deps, case, events, [change], ACTOR)
        except ConcurrencyConflict:
            continue  # someone acted on it meanwhile: it is theirs now
        recorded.extend(new)
    return recorded


# -- enterprises -------------------------------------------------------------------------------

def _append_enterprise(deps: Deps, street_id: str, code: str,
                       decide_fn: Callable[[Enterprise | None], Change | None], actor: str = ACTOR,
                       cause: Event | None = None) -> tuple[Enterprise | None, list[Event]]:
    stream = enterprise_stream(street_id, code)
    for _ in range(RETRIES):
        events = deps.store.events.read_stream(stream)
        ent = fold_enterprise(events)
        change = decide_fn(ent)
        if change is None:
            return ent, []
        try:
            commit = deps.store.append(stream, len(events), [make_event(change, stream, street_id, actor, deps.clock, cause)])
        except ConcurrencyConflict:
            continue
        all_events = events + list(commit.events)
        ent = fold_enterprise(all_events)
        assert ent is not None
        projections.write_enterprise(deps.store.db, ent)
        if change.type == "enterprise.cross_street_flagged":
            metrics.CROSS_STREET_FLAGS.labels(street_id).inc()
        return ent, list(commit.events)
    raise ConcurrencyConflict(stream, -1, -1)


def record_enterprise(deps: Deps, street_id: str, credit_code: str, *, source: str, name: str = "",
                      address: str = "", clue_id: str = "", case_id: str = "", score: int = 0,
                      suggested_tag: str = "", movement: str = "", by: str = "",
                      cause: Event | None = None) -> Enterprise:
    """Record that the enterprise came up in `street_id` and flag it in every street that knows
    the same credit code — in both streets, once per pair."""
    now = deps.clock.now()
    ent, _ = _append_enterprise(
        deps, street_id, credit_code,
        lambda e: decide_sighting(e, credit_code, now, source=source, name=name, address=address, clue_id=clue_id,
                                  case_id=case_id, score=score, suggested_tag=suggested_tag, movement=movement, by=by),
        _actor(by), cause)
    if ent is None:  # already recorded and nothing new: read it back
        ent = fold_enterprise(deps.store.events.read_stream(enterprise_stream(street_id, credit_code)))
    assert ent is not None
    projections.write_enterprise(deps.store.db, ent)
    others = sorted({d["street_id"] for d in projections.enterprises_with_code(deps.store.db, credit_code)} - {street_id})
    for other in others:
        _append_enterprise(deps, street_id, credit_code, lambda e, o=other: decide_flag(e, o, now) if e else None,
                           cause=cause)
        _append_enterprise(deps, other, credit_code, lambda e: decide_flag(e, street_id, now) if e else None,
                           cause=cause)
    result = fold_enterprise(deps.store.events.read_stream(enterprise_stream(street_id, credit_code)))
    assert result is not None
    return result


def validate_credit_code(text: str) -> str:
    try:
        return parse_credit_code(text).code
    except InvalidCreditCode as exc:
        raise InvalidCommand(str(exc), code="invalid_credit_code") from exc


def get_enterprise(deps: Deps, street_id: str, credit_code: str) -> Enterprise:
    ent = fold_enterprise(deps.store.events.read_stream(enterprise_stream(street_id, credit_code)))
    if ent is None:
        raise NotFoundError(f"企业 {credit_code}")
    return ent


def tag_enterprise(deps: Deps, street_id: str, credit_code: str, tag: str, reason: str, by: str) -> Enterprise:
    get_enterprise(deps, street_id, credit_code)
    now = deps.clock.now()
    ent, _ = _append_enterprise(deps, street_id, credit_code, lambda e: decide_tag(e, tag, reason, by, now) if e else None,
                                _actor(by))
    assert ent is not None
    return ent


def set_plan(deps: Deps, street_id: str, credit_code: str, measures: Sequence[str], responsible: str, leader: str,
             deadline: datetime, by: str) -> Enterprise:
    get_enterprise(deps, street_id, credit_code)
    now = deps.clock.now()
    ent, _ = _append_enterprise(
        deps, street_id, credit_code,
        lambda e: decide_plan(e, measures, responsible, leader, deadline, by, now) if e else None, _actor(by))
    assert ent is not None
    return ent


# -- the case workflow -------------------------------------------------------------------------

def get_case(store: ServiceStore, case_id: str) -> tuple[Case | None, list[Event]]:
    events = store.events.read_stream(case_stream(case_id))
    return fold(events), events


def case_in_street(store: ServiceStore, case_id: str, street_id: str | None) -> tuple[Case, list[Event]]:
    case, events = get_case(store, case_id)
    if case is None or (street_id is not None and case.street_id != street_id):
        raise NotFoundError(f"案件 {case_id}")
    return case, events


def count_recorded(case_before: Case, events: Iterable[Event]) -> None:
    """Domain metrics for facts recorded for the first time (called only after an append)."""
    street = case_before.street_id
    level_entered = case_before.level_entered_at
    level = case_before.level
    for ev in events:
        p = ev.payload
        if ev.type == "case.registered":
            metrics.CLUES_REGISTERED.labels(street, "late" if p["late"] else "on_time").inc()
            metrics.REGISTRATION_SECONDS.labels(street).observe(p["seconds_since_found"])
        elif ev.type in ("case.escalated", "case.bounced_back", "case.closed"):
            if level_entered:
                spent = (at_of(p["at"]) - at_of(level_entered)).total_seconds()
                metrics.LEVEL_SECONDS.labels(street, str(level)).observe(max(0.0, spent))
            if ev.type != "case.closed":
                level, level_entered = p["to_level"], p["at"]
        elif ev.type == "case.disposal_decided":
            metrics.DISPOSALS.labels(street, p["disposal"]).inc()
        elif ev.type == "sla.breached":
            metrics.SLA_BREACHES.labels(street, str(p["level"]), p["rule"]).inc()
        elif ev.type == "sla.warned":
            metrics.SLA_WARNINGS.labels(street, str(p["level"]), p["rule"]).inc()


def record_changes(deps: Deps, case: Case, events_read: list[Event], changes: list[Change], actor: str) -> tuple[Case, list[Event]]:
    """Append `changes` at the version that was read; ConcurrencyConflict if someone wrote first."""
    stream = case_stream(case.case_id)
    commit = deps.store.append(stream, case.version, [make_event(c, stream, case.street_id, actor, deps.clock) for c in changes])
    count_recorded(case, commit.events)
    new_case = fold(list(commit.events), fold(events_read))  # a fresh fold: `case` stays as it was
    assert new_case is not None
    projections.write_case(deps.store.db, new_case)
    return new_case, list(commit.events)


def act(deps: Deps, case_id: str, street_id: str | None, action: str, by: str, reason: str = "",
        params: Mapping[str, Any] | None = None) -> tuple[Case, list[Event]]:
    """Take `action` on the case; the case after it and the events recorded.

    Raises NotFoundError, or the domain's IllegalTransition / CommandRefused / InvalidCommand."""
    for attempt in range(RETRIES):
        case, events = case_in_street(deps.store, case_id, street_id)
        cmd = Command(action, by, deps.clock.now().astimezone(SHANGHAI), reason, dict(params or {}))
        changes = decide_step(case, cmd, context_for(deps, case))  # + the breach of a clock it ends late
        try:
            return record_changes(deps, case, events, changes, _actor(by))
        except ConcurrencyConflict:
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


# -- report obligations ------------------------------------------------------------------------

def campaigns_of(deps: Deps, street_id: str) -> dict[str, Campaign]:
    return {c.campaign_id: c for c in (campaign_from_fact(e) for e in projections.campaign_events(deps.store.db, street_id))}


def define_campaign(deps: Deps, street_id: str, campaign_id: str, name: str, phases: list[dict[str, Any]],
                    community_ids: list[str], by: str) -> Campaign:
    """A campaign (专项行动) with its phase deadlines; defined once (its id cannot be reused)."""
    if not phases:
        raise InvalidCommand("专项行动须至少有一个阶段", code="missing_phases")
    ids = [ph["phase_id"] for ph in phases]
    if len(set(ids)) != len(ids):
        raise InvalidCommand("阶段编号不能重复", code="duplicate_phase")
    unknown = [c for c in community_ids if c not in deps.roster.communities
               or deps.roster.communities[c].get("street_id") != street_id]
    if unknown:
        raise InvalidCommand(f"社区不在本街道名册中：{'、'.join(unknown)}", code="unknown_community")
    now = deps.clock.now()
    payload = {"campaign_id": campaign_id, "name": name, "community_ids": list(community_ids),
               "phases": [{"phase_id": ph["phase_id"], "name": ph["name"], "due_at": phase_due(ph["due_at"]).isoformat()}
                          for ph in phases],
               "at": now.astimezone(SHANGHAI).isoformat(), "by": by}
    stream = campaign_stream(street_id, campaign_id)
    try:
        commit = deps.store.append(stream, 0, [make_event(Change("campaign.defined", payload), stream, street_id, _actor(by),
                                                      deps.clock)])
    except ConcurrencyConflict:
        raise CommandRefused(f"专项行动 {campaign_id} 已存在", code="campaign_exists") from None
    projections.write_campaign(deps.store.db, list(commit.events))
    return campaign_from_fact(commit.events[0])


def obligation_state(deps: Deps, street_id: str, ob: Obligation) -> ObligationState:
    return fold_obligation(ob, deps.store.events.read_stream(obligation_stream(street_id, ob.obligation_id)))


def units_of_street(roster: RosterView, street_id: str) -> list[tuple[str, str]]:
    """(unit id, unit kind): the street itself, then its communities by id."""
    communities = sorted(c for c, info in roster.communities.items() if info.get("street_id") == street_id)
    return [(street_id, "street")] + [(c, "community") for c in communities]


def list_obligations(deps: Deps, street_id: str, start: datetime, end: datetime, unit_id: str | None = None,
                     kind: str | None = None) -> list[dict[str, Any]]:
    """Every obligation of the street due in (start, end], with its verdict now."""
    now = deps.clock.now()
    campaigns = list(campaigns_of(deps, street_id).values())
    out: list[dict[str, Any]] = []
    for unit, unit_kind in units_of_street(deps.roster, street_id):
        if unit_id and unit != unit_id:
            continue
        for ob in due_between(unit, unit_kind, start, end, campaigns):
            if kind and ob.kind != kind:
                continue
            state = obligation_state(deps, street_id, ob)
            row = state.as_dict(now)
            if not state.submitted_at and not state.missed_recorded:  # not decided yet: who would answer for it
                holder = report_holder(deps.roster, street_id, unit, unit_kind, ob.due_at)
                row["responsible_person_id"], row["responsibility_note"] = holder.person_id, holder.note
            out.append(row)
    return out


def tracked_since(deps: Deps, street_id: str, unit_id: str) -> datetime | None:
    """When tracking of the unit's reports started (`obligation.tracking_started`), None if not yet."""
    events = deps.store.events.read_stream(tracking_stream(street_id, unit_id))
    return at_of(events[0].payload["since"]) if events else None


def submit_obligation(deps: Deps, street_id: str, oid: str, by: str, summary: str,
                      community: str | None = None) -> dict[str, Any]:
    """Record a report (on time or late); refused if it was already submitted. `community`: the
    caller's own community when it may report for nothing else (another unit's report is a 404)."""
    ob = parse_obligation_id(oid, campaigns_of(deps, street_id))
    unit_kind = "street" if ob.kind == "sweep" else "community"
    if community is not None and ob.unit_id != community:
        raise NotFoundError(f"报送义务 {oid}")
    if unit_kind == "street" and ob.unit_id != street_id:
        raise NotFoundError(f"报送义务 {oid}")
    if unit_kind == "community" and deps.roster.communities.get(ob.unit_id, {}).get("street_id") != street_id:
        raise NotFoundError(f"报送义务 {oid}")
    stream = obligation_stream(street_id, oid)
    for attempt in range(RETRIES):
        events = deps.store.events.read_stream(stream)
        state = fold_obligation(ob, events)
        now = deps.clock.now().astimezone(SHANGHAI)
        holder = report_holder(deps.roster, street_id, ob.unit_id, unit_kind, ob.due_at)
        changes = decide_submission(state, by, now, summary, holder.person_id, holder.note,
                                    tracked_since(deps, street_id, ob.unit_id), holder.grid_id)
        try:
            commit = deps.store.append(stream, state.version,
                                       [make_event(c, stream, street_id, _actor(by), deps.clock) for c in changes])
        except ConcurrencyConflict:
            if attempt == RETRIES - 1:
                raise
            continue
        for ev in commit.events:
            if ev.type == "obligation.missed":
                metrics.OBLIGATIONS.labels(street_id, ob.kind, "missed").inc()
            else:
                metrics.OBLIGATIONS.labels(street_id, ob.kind, "on_time" if ev.payload["on_time"] else "late").inc()
        all_events = events + list(commit.events)
        projections.write_obligation(deps.store.db, stream, all_events)
        return fold_obligation(ob, all_events).as_dict(now)
    raise AssertionError("unreachable")


# -- the quantitative assessment (量化考核) facts, per person ----------------------------------

def assessment(deps: Deps, street_id: str) -> dict[str, dict[str, int]]:
    """Per person: breaches, bounce-backs, repeated extensions, last-minute steps and missed
    reports, counted from the recorded facts (the ledger builds the real scorecards)."""
    counts: dict[str, dict[str, int]] = {}

    def bump(person: str, key: str) -> None:
        if person:
            row = counts.setdefault(person, {"breaches": 0, "bounce_backs": 0, "repeated_extensions": 0,
                                             "last_minute": 0, "missed_reports": 0, "late_reports": 0})
            row[key] += 1

    for doc in projections.cases_of_street(deps.store.db, street_id):
        for ev in deps.store.events.read_stream(case_stream(doc["_id"])):
            p = ev.payload
            if ev.type == "sla.breached":
                bump(p["responsible_person_id"], "breaches")
            elif ev.type == "case.bounced_back":
                bump(p.get("bounced_person_id", ""), "bounce_backs")
            elif ev.type == "case.deadline_extended" and p["extension_no"] >= 2:
                bump(p.get("by", ""), "repeated_extensions")
            if p.get("last_minute"):
                bump(p.get("by", ""), "last_minute")
    for doc in projections.obligations_of_street(deps.store.db, street_id):
        if doc.get("submitted_at") and not doc.get("on_time"):
            bump(doc.get("responsible_person_id", ""), "late_reports")
        elif doc.get("missed_recorded") and not doc.get("submitted_at"):
            bump(doc.get("responsible_person_id", ""), "missed_reports")
    return dict(sorted(counts.items()))
