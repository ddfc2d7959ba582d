"""Read models of the escalation service, rebuilt from its own event store.

- `case_index`: one document per case (street, status, level, when the scanner must look next,
  whether it is overdue) — what lists, the scanner and the gauges query;
- `enterprise_index`: one per (street, credit code) — the cross-street lookup and the lists;
- `campaign_index`: one per campaign — the phases obligations are derived from;
- `obligation_index`: one per obligation that has a stream (reminded / submitted / missed).

Each document is the fold of its stream, written with a version guard (a slower writer of an
older fold never overwrites a newer one). Writers refresh the documents of the streams they
appended to; the scanner also tails the store (`catch_up`) so a crash between an append and its
refresh is repaired on the next tick. Queries use equality on indexed fields only (litemongo
scans range queries); time filtering happens in Python.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from fangfei import metrics
from fangfei.eventstore.provider import ServiceStore
from fangfei.events import Event
from fangfei.events.registry import event_from_dict

from .domain.case import Case, at_of, fold
from .domain.enterprise import Enterprise, fold_enterprise
from .domain.obligations import Obligation, fold_obligation
from .domain.vocabulary import DISTRICT_LEVEL

CASES = "case_index"
ENTERPRISES = "enterprise_index"
CAMPAIGNS = "campaign_index"
OBLIGATIONS = "obligation_index"
META = "escalation_meta"
TAIL_KEY = "projection_tail"


def ensure_indexes(db: Any) -> None:
    db[CASES].create_index([("open", ASCENDING)])
    db[CASES].create_index([("street_id", ASCENDING)])
    db[ENTERPRISES].create_index([("credit_code", ASCENDING)])
    db[ENTERPRISES].create_index([("street_id", ASCENDING)])
    db[ENTERPRISES].create_index([("has_plan", ASCENDING)])
    db[CAMPAIGNS].create_index([("street_id", ASCENDING)])
    db[OBLIGATIONS].create_index([("street_id", ASCENDING)])


def _guarded_write(col: Any, doc: dict[str, Any]) -> None:
    """Write `doc` unless a document at the same or a newer version is there already."""
    try:
        col.update_one({"_id": doc["_id"], "version": {"$lt": doc["version"]}}, {"$set": doc}, upsert=True)
    except DuplicateKeyError:
        pass  # the stored document is as new or newer


def _epoch(instant: datetime | None) -> float | None:
    return instant.timestamp() if instant is not None else None


def case_doc(case: Case) -> dict[str, Any]:
    clk = case.clock if case.is_open else None
    due = clk.due_at() if clk is not None and clk.paused_at is None else None
    nxt = case.next_check_at()
    return {
        "_id": case.case_id, "version": case.version, "street_id": case.street_id, "community_id": case.community_id,
        "status": case.status, "level": case.level, "open": case.is_open,
        "assignee_person_id": case.assignee_person_id, "found_at": case.found_at,
        "registered": bool(case.registered_at), "register_deadline": case.register_deadline,
        "register_deadline_epoch": datetime.fromisoformat(case.register_deadline).timestamp(),
        "next_check": _epoch(nxt), "due_epoch": _epoch(due),
        "overdue_since": _epoch(clk.due_at()) if clk is not None and (clk.breached or clk.paused_at is None) else None,
        "paused": bool(clk is not None and clk.paused_at is not None),
        "rule": clk.rule if clk is not None else "", "deadline": clk.as_dict()["deadline"] if clk is not None else "",
        "leader_person_id": case.leader_person_id, "supervised": bool(case.supervision),
        "abnormal": case.abnormal, "risk_tag": case.risk.get("suggested_tag", ""),
        # routed to nobody because its community was not in our roster copy yet (handlers.reroute_waiting)
        "awaiting_roster": case.status == "reported" and case.level == DISTRICT_LEVEL and not case.assignee_person_id,
        "risk_score": case.risk.get("score", 0), "outcome": case.outcome, "opened_at": case.opened_at,
    }


def write_case(db: Any, case: Case) -> None:
    _guarded_write(db[CASES], case_doc(case))


def enterprise_key(street_id: str, credit_code: str) -> str:
    return f"{street_id}|{credit_code}"


def write_enterprise(db: Any, ent: Enterprise) -> None:
    doc = {"_id": enterprise_key(ent.street_id, ent.credit_code), "version": ent.version,
           "street_id": ent.street_id, "credit_code": ent.credit_code, "name": ent.name, "tag": ent.tag,
           "suggested_tag": ent.suggested_tag, "score": ent.score, "other_streets": list(ent.other_streets),
           "has_plan": bool(ent.plan), "plan_deadline": ent.plan.get("deadline", ""),
           "plan_due_epoch": _epoch(ent.plan_deadline())}
    _guarded_write(db[ENTERPRISES], doc)


def write_campaign(db: Any, events: list[Event]) -> None:
    ev = events[0]
    doc = {"_id": f"{ev.street_id}|{ev.payload['campaign_id']}", "version": events[-1].stream_version,
           "street_id": ev.street_id, "event": ev.as_dict()}
    _guarded_write(db[CAMPAIGNS], doc)


def write_obligation(db: Any, stream_id: str, events: list[Event]) -> None:
    first = events[0]
    p = first.payload
    state = fold_obligation(_stored_obligation(p), events)
    doc = {"_id": stream_id, "version": state.version, "street_id": first.street_id,
           "obligation_id": p["obligation_id"], "kind": p["kind"], "unit_id": p["unit_id"], "period": p["period"],
           "due_at": p["due_at"], "submitted_at": state.submitted_at, "submitted_by": state.submitted_by,
           "on_time": state.on_time, "missed_recorded": state.missed_recorded, "reminded": state.reminded,
           "responsible_person_id": state.responsible_person_id}
    _guarded_write(db[OBLIGATIONS], doc)


def obligation_settled_for_reminder(db: Any, stream_id: str) -> bool:
    """The read model already shows a reminder or a submission: nothing to remind (a stale or
    missing row only costs a stream read; the append at the read version is the real guard)."""
    doc = db[OBLIGATIONS].find_one({"_id": stream_id}, {"reminded": 1, "submitted_at": 1})
    return bool(doc and (doc.get("reminded") or doc.get("submitted_at")))


def _stored_obligation(p: Any) -> Obligation:
    """The obligation of a stored event, without needing the campaign (its due time is in the event)."""
    return Obligation(p["obligation_id"], p["kind"], p["unit_id"], p["period"], at_of(p["due_at"]), "")


def refresh_stream(store: ServiceStore, stream_id: str, events: list[Event] | None = None) -> None:
    """Rewrite the read model of one stream from its events."""
    kind = stream_id.split("-", 1)[0]
    if kind not in ("case", "enterprise", "campaign", "obligation"):
        return
    events = events if events is not None else store.events.read_stream(stream_id)
    if not events:
        return
    db = store.db
    if kind == "case":
        case = fold(events)
        if case is not None:
            write_case(db, case)
    elif kind == "enterprise":
        ent = fold_enterprise(events)
        if ent is not None:
            write_enterprise(db, ent)
    elif kind == "campaign":
        write_campaign(db, events)
    elif kind == "obligation":
        write_obligation(db, stream_id, events)


def catch_up(store: ServiceStore, pause: Callable[[], None] = lambda: None, batch: int = 500) -> int:
    """Refresh the read models of every stream written since the last catch-up; returns how many
    commits were read. The tail stops two ticks behind the head (`lag_positions`) so a commit whose
    position was handed out but not yet inserted is not skipped (its writer refreshes it anyway)."""
    meta = store.db[META]
    doc = meta.find_one({"_id": TAIL_KEY}) or {}
    tail = int(doc.get("position", 0))
    head = store.events.head_position()
    pending = int(doc.get("pending_head", head))
    upto = min(head, pending)  # only what was handed out at least one tick ago
    read = 0
    pos = tail
    while pos < upto:
        end = min(pos + batch, upto)
        touched: dict[str, None] = {}
        for commit in store.events.read_positions(range(pos + 1, end + 1)):
            touched[commit.stream_id] = None
            read += 1
        for stream_id in touched:
            refresh_stream(store, stream_id)
            pause()
        pos = end
    meta.update_one({"_id": TAIL_KEY}, {"$set": {"position": max(tail, upto), "pending_head": head}}, upsert=True)
    return read


# -- queries -----------------------------------------------------------------------------------

def cases_awaiting_roster(db: Any, street_id: str) -> list[dict[str, Any]]:
    return [d for d in db[CASES].find({"street_id": street_id}) if d.get("awaiting_roster")]


def open_cases(db: Any) -> list[dict[str, Any]]:
    return list(db[CASES].find({"open": True}))


def cases_of_street(db: Any, street_id: str | None) -> list[dict[str, Any]]:
    """The cases of one street, or of every street (None: district-wide readers)."""
    flt = {"street_id": street_id} if street_id is not None else {}
    return sorted(db[CASES].find(flt), key=lambda d: (d.get("opened_at", ""), d["_id"]))


def enterprises_with_code(db: Any, credit_code: str) -> list[dict[str, Any]]:
    return list(db[ENTERPRISES].find({"credit_code": credit_code}))


def enterprises_with_plans(db: Any) -> list[dict[str, Any]]:
    return list(db[ENTERPRISES].find({"has_plan": True}))


def enterprises_of_street(db: Any, street_id: str | None) -> list[dict[str, Any]]:
    """The enterprises known in one street, or in every street (None)."""
    flt = {"street_id": street_id} if street_id is not None else {}
    return sorted(db[ENTERPRISES].find(flt), key=lambda d: (d["credit_code"], d["street_id"]))


def campaign_events(db: Any, street_id: str) -> list[Event]:
    return [event_from_dict(d["event"]) for d in db[CAMPAIGNS].find({"street_id": street_id})]


def obligations_of_street(db: Any, street_id: str) -> list[dict[str, Any]]:
    return list(db[OBLIGATIONS].find({"street_id": street_id}))


# -- gauges (set by the scanner only: never by code that runs on a replay) ---------------------

_GAUGE_LABELS: dict[str, set[tuple[str, ...]]] = {"open": set(), "overdue": set(), "unregistered": set()}


def _set(gauge: Any, key: str, values: dict[tuple[str, ...], int]) -> None:
    for labels in _GAUGE_LABELS[key] - set(values):
        gauge.labels(*labels).set(0)
    for labels, value in values.items():
        gauge.labels(*labels).set(value)
    _GAUGE_LABELS[key] = set(values)


def update_gauges(docs: Iterable[dict[str, Any]], now: datetime) -> dict[str, int]:
    """Open and overdue cases by street and level; unregistered clues past 4 hours by street."""
    t = now.timestamp()
    opened: dict[tuple[str, ...], int] = {}
    overdue: dict[tuple[str, ...], int] = {}
    unregistered: dict[tuple[str, ...], int] = {}
    for d in docs:
        if not d.get("open"):
            continue
        key = (d["street_id"], str(d["level"]))
        opened[key] = opened.get(key, 0) + 1
        since = d.get("overdue_since")
        if since is not None and since <= t:
            overdue[key] = overdue.get(key, 0) + 1
        if not d.get("registered") and d["register_deadline_epoch"] <= t:
            unregistered[(d["street_id"],)] = unregistered.get((d["street_id"],), 0) + 1
    _set(metrics.CASES_OPEN, "open", opened)
    _set(metrics.CASES_OVERDUE, "overdue", overdue)
    _set(metrics.CLUES_UNREGISTERED_OVERDUE, "unregistered", unregistered)
    return {"open": sum(opened.values()), "overdue": sum(overdue.values()),
            "unregistered_overdue": sum(unregistered.values())}


class ReadModels:
    """Creates the read models' indexes once per process (a `PerProcess` dependency)."""

    def __init__(self, db: Any) -> None:
        ensure_indexes(db)
