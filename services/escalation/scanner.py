"""The deadline scanner: what a nameko `@timer` runs every few seconds.

1. `projections.catch_up` repairs read models a crash left behind;
2. every open case whose next check (75% warning or deadline) has come is re-read from its
   stream and advanced by `domain.sla.due_step` until nothing more is due — a breach with its
   automatic escalation is one commit, appended at the version that was read, so a second
   scanner (or this one after a SIGKILL) can never record it twice;
3. every tracked unit's report obligations whose deadline passed with nothing submitted get
   `obligation.missed`, appended at version 0 of the obligation's deterministic stream; those
   due within the reminder lead (FANGFEI_OBLIGATION_REMINDER_LEAD_H) and not yet submitted get
   `obligation.reminder_due`, appended at the version read, so once per obligation;
4. the gauges are set from the read model.

Every instant written comes from the facts (deadlines), never from when the scan ran, so a late
scan and a replay record the same breaches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from fangfei import metrics
from fangfei.clock import SHANGHAI
from fangfei.eventstore.store import ConcurrencyConflict

from . import projections
from .domain.case import at_of, fold, iso
from .domain.enterprise import decide_plan_breach, fold_enterprise
from .domain.obligations import Campaign, decide_missed, decide_reminder, due_between, fold_obligation, reminder_at
from .domain.sla import MAX_STEPS_PER_SCAN, due_step
from .domain.workflow import Change
from .handlers import (
    ACTOR, Deps, campaigns_of, make_event, case_stream, context_for, count_recorded, enterprise_stream, obligation_stream,
    tracking_stream, units_of_street,
)
from .responsibility import report_holder

UNITS = "obligation_units"


@dataclass
class ScanReport:
    warned: int = 0
    breached: int = 0
    escalated: int = 0
    missed: int = 0
    reminded: int = 0
    conflicts: int = 0
    caught_up: int = 0
    gauges: dict[str, int] = field(default_factory=dict)
    now: datetime | None = None  # the instant the pass decided at (everything due by then is recorded)


def advance_case(deps: Deps, case_id: str, now: datetime, report: ScanReport) -> None:
    """Record everything due on one case at `now` (several steps after a long outage)."""
    stream = case_stream(case_id)
    events = deps.store.events.read_stream(stream)
    case = fold(events)
    if case is None:
        return
    for _ in range(MAX_STEPS_PER_SCAN):
        changes = due_step(case, now, context_for(deps, case))
        if not changes:
            break
        try:
            commit = deps.store.append(stream, case.version,
                                       [make_event(c, stream, case.street_id, ACTOR, deps.clock) for c in changes])
        except ConcurrencyConflict:
            report.conflicts += 1  # someone acted on the case meanwhile: decide again next tick
            break
        count_recorded(case, commit.events)
        for ev in commit.events:
            report.warned += ev.type == "sla.warned"
            report.breached += ev.type == "sla.breached"
            report.escalated += ev.type == "case.escalated"
        case = fold(list(commit.events), case)
        assert case is not None
    projections.write_case(deps.store.db, case)


def scan_cases(deps: Deps, now: datetime, report: ScanReport, pause: Callable[[], None]) -> None:
    t = now.timestamp()
    for doc in projections.open_cases(deps.store.db):
        nxt = doc.get("next_check")
        if nxt is not None and nxt <= t:
            advance_case(deps, doc["_id"], now, report)
            pause()


def _tracked_since(deps: Deps, street_id: str, unit_id: str, unit_kind: str, now: datetime) -> dict:
    """The unit's tracking document; the first time, record when tracking started (an event, so
    the start is a fact and a replay owes the same reports)."""
    col = deps.store.db[UNITS]
    key = f"{street_id}|{unit_id}"
    doc = col.find_one({"_id": key})
    if doc is not None:
        return doc
    stream = tracking_stream(street_id, unit_id)
    change = Change("obligation.tracking_started",
                    {"unit_id": unit_id, "unit_kind": unit_kind, "since": iso(now)})
    try:
        deps.store.append(stream, 0, [make_event(change, stream, street_id, ACTOR, deps.clock)])
    except ConcurrencyConflict:
        pass
    since = deps.store.events.read_stream(stream)[0].payload["since"]
    doc = {"_id": key, "street_id": street_id, "unit_id": unit_id, "unit_kind": unit_kind, "since": since,
           "watermark": since}
    col.update_one({"_id": key}, {"$setOnInsert": doc}, upsert=True)
    return col.find_one({"_id": key}) or doc


def scan_obligations(deps: Deps, now: datetime, report: ScanReport, pause: Callable[[], None]) -> None:
    for street_id in sorted(deps.roster.streets):
        campaigns = list(campaigns_of(deps, street_id).values())
        for unit_id, unit_kind in units_of_street(deps.roster, street_id):
            doc = _tracked_since(deps, street_id, unit_id, unit_kind, now)
            record_missed(deps, doc, campaigns, now, report, pause)
            remind_unit(deps, street_id, unit_id, unit_kind, at_of(doc["since"]), campaigns, now, report, pause)


def record_missed(deps: Deps, doc: dict, campaigns: list[Campaign], now: datetime, report: ScanReport,
                  pause: Callable[[], None]) -> None:
    """`obligation.missed` for each of the unit's deadlines passed since the watermark."""
    street_id, unit_id, unit_kind = doc["street_id"], doc["unit_id"], doc["unit_kind"]
    watermark = at_of(doc["watermark"])
    until = now - timedelta(microseconds=1)  # a deadline is missed only once it has passed
    if watermark >= until:
        return
    for ob in due_between(unit_id, unit_kind, watermark, until, campaigns):
        stream = obligation_stream(street_id, ob.obligation_id)
        events = deps.store.events.read_stream(stream)
        state = fold_obligation(ob, events)
        holder = report_holder(deps.roster, street_id, unit_id, unit_kind, ob.due_at)
        change = decide_missed(state, now, holder.person_id, holder.grid_id, holder.note)
        if change is None:
            continue
        try:
            commit = deps.store.append(stream, state.version,
                                       [make_event(change, stream, street_id, ACTOR, deps.clock)])
        except ConcurrencyConflict:
            report.conflicts += 1  # submitted meanwhile: it is late, not missed
            continue
        metrics.OBLIGATIONS.labels(street_id, ob.kind, "missed").inc()
        projections.write_obligation(deps.store.db, stream, events + list(commit.events))
        report.missed += 1
        pause()
    deps.store.db[UNITS].update_one({"_id": doc["_id"]}, {"$set": {"watermark": until.isoformat()}})


def remind_unit(deps: Deps, street_id: str, unit_id: str, unit_kind: str, since: datetime,
                campaigns: list[Campaign], now: datetime, report: ScanReport, pause: Callable[[], None]) -> None:
    """`obligation.reminder_due` for each obligation of the unit due in the next lead hours.

    No watermark: the window (now, now + lead] is looked at on every pass, so a campaign phase
    defined inside the lead is still reminded. The read model says which ones were already
    reminded or submitted (a cheap skip); the stream, appended at the version read, is the guard:
    a restart, a replay or a second scanner finds the reminder folded or loses the append."""
    lead = deps.reminder_lead_h
    for ob in due_between(unit_id, unit_kind, max(now, since), now + timedelta(hours=lead), campaigns):
        stream = obligation_stream(street_id, ob.obligation_id)
        if projections.obligation_settled_for_reminder(deps.store.db, stream):
            continue
        events = deps.store.events.read_stream(stream)
        state = fold_obligation(ob, events)
        holder = report_holder(deps.roster, street_id, unit_id, unit_kind, reminder_at(ob, lead, since))
        change = decide_reminder(state, now, lead, since, holder.person_id, holder.grid_id, holder.note)
        if change is None:
            continue
        try:
            commit = deps.store.append(stream, state.version, [make_event(change, stream, street_id, ACTOR, deps.clock)])
        except ConcurrencyConflict:
            report.conflicts += 1  # submitted or reminded meanwhile: decided again next pass
            continue
        projections.write_obligation(deps.store.db, stream, events + list(commit.events))
        report.reminded += 1
        pause()


def scan_enterprise_plans(deps: Deps, now: datetime, report: ScanReport, pause: Callable[[], None]) -> None:
    """一企一策 deadlines: one breach per plan, on the enterprise's own stream."""
    t = now.timestamp()
    for doc in projections.enterprises_with_plans(deps.store.db):
        due = doc.get("plan_due_epoch")
        if due is None or due >= t:
            continue
        stream = enterprise_stream(doc["street_id"], doc["credit_code"])
        events = deps.store.events.read_stream(stream)
        ent = fold_enterprise(events)
        change = decide_plan_breach(ent, now) if ent is not None else None
        if ent is None or change is None:
            continue
        try:
            commit = deps.store.append(stream, ent.version, [make_event(change, stream, ent.street_id, ACTOR, deps.clock)])
        except ConcurrencyConflict:
            report.conflicts += 1
            continue
        metrics.SLA_BREACHES.labels(ent.street_id, "1", "enterprise_plan").inc()
        report.breached += 1
        new = fold_enterprise(events + list(commit.events))
        assert new is not None
        projections.write_enterprise(deps.store.db, new)
        pause()


def scan(deps: Deps, pause: Callable[[], None] = lambda: None) -> ScanReport:
    """One pass of the scanner at `deps.clock.now()`."""
    report = ScanReport()
    now = report.now = deps.clock.now().astimezone(SHANGHAI)
    report.caught_up = projections.catch_up(deps.store, pause)
    scan_cases(deps, now, report, pause)
    scan_obligations(deps, now, report, pause)
    scan_enterprise_plans(deps, now, report, pause)
    report.gauges = projections.update_gauges(projections.open_cases(deps.store.db), now)
    return report
