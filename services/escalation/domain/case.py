"""A case (案件) as folded from the events of its stream `case-<case_id>`.

State changes only by applying recorded facts, one rule per event type (`APPLIERS`). Every
instant the rules use comes from the payload (`at`, `deadline`), never from when the event was
read, so folding the log at any time gives the same case, the same clocks and the same verdicts.

The domain reads events through the small `Fact` protocol (what `fangfei.events.Event` has), so
it imports no schema, store or messaging library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Protocol

from fangfei.clock import SHANGHAI, parse_iso

from .vocabulary import ACTION_LABELS, AGENCY_LABELS, DISTRICT_LEVEL, LEVEL_LABELS, RULE_LABELS, STATUS_LABELS

WARN_FRACTION = 0.75  # warn the responsible person when 75% of a clock's time has run
LAST_MINUTE_FRACTION = 0.9  # a step in the last 10% of the window counts as last-minute handling

# The handling status of each level: where a case sits while that level must act on it.
HANDLING: dict[int, str] = {3: "triage", 2: "level2_review", 1: "level1_review", DISTRICT_LEVEL: "district"}
LEVEL_OF_STATUS: dict[str, int] = {status: lvl for lvl, status in HANDLING.items()}
# The SLA rule that runs while a case is in a status (disposal: only while a rectification order runs).
RULE_OF_STATUS: dict[str, str] = {
    "reported": "registration",
    "triage": "triage",
    "level2_review": "level2_review",
    "level1_review": "level1_review",
    "district": "district_review",
    "joint_meeting": "joint_meeting",
}


class Fact(Protocol):
    """The parts of a recorded event the domain reads (`fangfei.events.Event` satisfies it)."""

    type: str
    street_id: str
    payload: Mapping[str, Any]
    actor: str
    recorded_at: str
    stream_version: int


def at_of(text: str) -> datetime:
    return parse_iso(text).astimezone(SHANGHAI)


def iso(instant: datetime) -> str:
    """An instant as users read it: Asia/Shanghai with its +08:00 offset, to the second."""
    return instant.astimezone(SHANGHAI).replace(microsecond=0).isoformat()


@dataclass
class SlaClock:
    """One running deadline. `deadline` includes extensions; pauses shift it when they end."""

    no: int
    rule: str
    level: int
    started_at: datetime
    deadline: datetime
    paused_at: datetime | None = None
    paused_total: timedelta = timedelta(0)
    extensions: int = 0
    warned: bool = False
    breached: bool = False

    @property
    def window(self) -> timedelta:
        return self.deadline - self.started_at

    def due_at(self) -> datetime:
        """The effective deadline (pauses that ended pushed it back); while paused, as if resumed now."""
        return self.deadline + self.paused_total

    def warn_at(self) -> datetime:
        return self.started_at + self.window * WARN_FRACTION + self.paused_total

    def elapsed(self, now: datetime) -> timedelta:
        """Running time so far: wall time minus pauses (a pause in progress stops it)."""
        end = self.paused_at if self.paused_at is not None else now
        return max(timedelta(0), end - self.started_at - self.paused_total)

    def expired(self, now: datetime) -> bool:
        return self.breached or (self.paused_at is None and now >= self.due_at())

    def last_minute(self, now: datetime) -> bool:
        return not self.expired(now) and self.elapsed(now) >= self.window * LAST_MINUTE_FRACTION

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "clock_no": self.no,
            "rule": self.rule,
            "rule_label": RULE_LABELS.get(self.rule, self.rule),
            "level": self.level,
            "started_at": iso(self.started_at),
            "deadline": iso(self.due_at()),
            "base_deadline": iso(self.deadline),
            "paused": self.paused_at is not None,
            "paused_since": iso(self.paused_at) if self.paused_at else "",
            "paused_seconds": int(self.paused_total.total_seconds()),
            "extensions": self.extensions,
            "warned": self.warned,
            "breached": self.breached,
        }
        if now is not None:
            out["overdue"] = self.expired(now)
            out["remaining_seconds"] = 0 if out["overdue"] or self.paused_at else int((self.due_at() - now).total_seconds())
        return out


@dataclass(frozen=True)
class Custody:
    """From `since` the case was held at `level` (grid `grid_id`) by `person_id` ("" when nobody was
    named: the district office, or a community not yet on the roster)."""

    since: datetime
    level: int
    grid_id: str
    person_id: str


@dataclass
class Case:
    case_id: str
    clue_id: str
    street_id: str
    community_id: str
    grid_id: str  # the grid the case was routed to when opened
    level: int  # the level responsible now: 3, 2, 1 or 4 (district office)
    assignee_person_id: str
    found_at: str
    register_deadline: str
    routing_note: str
    status: str
    opened_at: str
    version: int
    current_grid_id: str = ""
    registered_at: str = ""
    registered_by: str = ""
    registration_late: bool = False
    clock: SlaClock | None = None
    clock_seq: int = 0
    # each escalation pushes where it came from, each bounce-back pops it: {"level", "by", "person"}
    path: list[dict[str, Any]] = field(default_factory=list)
    level_entered_at: str = ""
    abnormal: bool = False
    agencies: dict[str, dict[str, str]] = field(default_factory=dict)
    joint_meeting: dict[str, Any] = field(default_factory=dict)
    disposals: list[dict[str, Any]] = field(default_factory=list)
    rectification_open: bool = False
    leader_person_id: str = ""
    supervision: dict[str, Any] = field(default_factory=dict)
    outcome: str = ""
    closed_at: str = ""
    risk: dict[str, Any] = field(default_factory=dict)
    breaches: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    # who held the case from when, in stream order: routed when found, re-routed, escalated,
    # bounced back. A breach names the holder AT the deadline from this, never the grid's chief of
    # the moment (a chief appointed after the case was routed to his predecessor never held it).
    custody: list["Custody"] = field(default_factory=list)

    def holder_at(self, at: datetime) -> "Custody | None":
        """Who held the case at `at`: the last hand-over at or before it (None before it was found)."""
        held = None
        for entry in self.custody:
            if entry.since <= at:
                held = entry
        return held

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.level, str(self.level))

    @property
    def is_open(self) -> bool:
        return self.status != "closed"

    def running_clock(self) -> SlaClock | None:
        """The clock the scanner watches: present, not breached, case open."""
        clk = self.clock
        return clk if self.is_open and clk is not None and not clk.breached else None

    def next_check_at(self) -> datetime | None:
        """When the scanner must next look at this case (warning or deadline); None if never."""
        clk = self.running_clock()
        if clk is None or clk.paused_at is not None:
            return None
        return clk.due_at() if clk.warned else min(clk.warn_at(), clk.due_at())

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "clue_id": self.clue_id,
            "street_id": self.street_id,
            "community_id": self.community_id,
            "grid_id": self.grid_id,
            "current_grid_id": self.current_grid_id,
            "level": self.level,
            "level_label": self.level_label,
            "assignee_person_id": self.assignee_person_id,
            "found_at": self.found_at,
            "register_deadline": self.register_deadline,
            "routing_note": self.routing_note,
            "status": self.status,
            "status_label": self.status_label,
            "opened_at": self.opened_at,
            "version": self.version,
            "registered_at": self.registered_at,
            "registered_by": self.registered_by,
            "registration_late": self.registration_late,
            "clock": self.clock.as_dict(now) if self.clock is not None and self.is_open else None,
            "abnormal": self.abnormal,
            "agencies": self.agencies,
            "joint_meeting": self.joint_meeting,
            "disposals": self.disposals,
            "rectification_open": self.rectification_open,
            "leader_person_id": self.leader_person_id,
            "supervision": self.supervision,
            "outcome": self.outcome,
            "closed_at": self.closed_at,
            "risk": self.risk,
            "breaches": self.breaches,
            "warnings": self.warnings,
            "history": self.history,
        }


# -- appliers: one per event type -------------------------------------------------------------

Applier = Callable[["Case | None", Fact], "Case | None"]


def _opened(case: Case | None, ev: Fact) -> Case:
    p = ev.payload
    found = at_of(p["found_at"])
    deadline = at_of(p["register_deadline"])
    return Case(
        case_id=p["case_id"], clue_id=p["clue_id"], street_id=ev.street_id, community_id=p["community_id"],
        grid_id=p["grid_id"], level=p["level"], assignee_person_id=p["assignee_person_id"],
        found_at=p["found_at"], register_deadline=p["register_deadline"], routing_note=p["routing_note"],
        status="reported", opened_at=ev.recorded_at, version=ev.stream_version, current_grid_id=p["grid_id"],
        clock=SlaClock(1, "registration", p["level"], found, deadline), clock_seq=1, level_entered_at=iso(found),
        custody=[Custody(found, p["level"], p["grid_id"], p["assignee_person_id"])],
    )


def _rerouted(case: Case | None, ev: Fact) -> Case:
    """Routed again once the roster named the case's community: the registration clock keeps its
    deadline, and the level (and so who answers for a breach) is the new one."""
    assert case is not None
    p = ev.payload
    case.level = p["level"]
    case.grid_id = case.current_grid_id = p.get("grid_id", "")
    case.assignee_person_id = p.get("assignee_person_id", "")
    case.routing_note = p.get("routing_note", "")
    if case.clock is not None and case.clock.rule == "registration":
        case.clock.level = p["level"]
    # held by the new assignee from the re-routing on: before it, nobody was named
    case.custody.append(Custody(at_of(p["at"]), p["level"], case.grid_id, case.assignee_person_id))
    return case


def _set_clock(case: Case, p: Mapping[str, Any]) -> None:
    """A step names the clock that runs after it: the same one (same number) carries on with its
    pauses and extensions; a new number starts afresh; no rule stops the clock."""
    rule = p.get("rule", "")
    if not rule:
        case.clock = None
        return
    no = int(p["clock_no"])
    if case.clock is not None and case.clock.no == no:
        return
    case.clock = SlaClock(no, rule, case.level, at_of(p["at"]), at_of(p["deadline"]))
    case.clock_seq = max(case.clock_seq, no)


def _move(case: Case, p: Mapping[str, Any], to_level: int) -> None:
    case.level = to_level
    case.status = HANDLING[to_level]
    case.assignee_person_id = p.get("assignee_person_id", "")
    case.current_grid_id = p.get("grid_id", "")
    case.level_entered_at = p["at"]
    case.custody.append(Custody(at_of(p["at"]), to_level, case.current_grid_id, case.assignee_person_id))


def _registered(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    p = ev.payload
    case.registered_at, case.registered_by, case.registration_late = p["at"], p["by"], p["late"]
    if case.status == "reported":
        case.status = HANDLING[case.level]
    _set_clock(case, p)
    return case


def _escalated(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    p = ev.payload
    person = p.get("by", "") or (case.breaches[-1]["responsible_person_id"] if p["automatic"] and case.breaches else "")
    case.path.append({"level": p["from_level"], "by": p.get("by", ""), "person": person or case.assignee_person_id})
    _move(case, p, p["to_level"])
    _set_clock(case, p)
    return case


def _bounced(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    p = ev.payload
    if case.path:
        case.path.pop()
    _move(case, p, p["to_level"])
    _set_clock(case, p)
    return case


def _abnormal(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    case.abnormal = True
    return case


def _agency_notified(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    p = ev.payload
    case.agencies[p["agency"]] = {"notified_at": p["at"], "by": p.get("by", ""), "response": "", "responded_at": ""}
    return case


def _agency_responded(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    p = ev.payload
    entry = case.agencies.setdefault(p["agency"], {"notified_at": "", "by": ""})
    entry.update({"response": p["response"], "responded_at": p["at"]})
    return case


def _meeting_convened(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    p = ev.payload
    case.joint_meeting = {"convened_at": p["at"], "departments": list(p["departments"]),
                          "return_status": p["return_status"], "decision": "", "lead_department": ""}
    case.status = "joint_meeting"
    _set_clock(case, p)
    return case


def _meeting_concluded(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    p = ev.payload
    case.joint_meeting.update({"decision": p["decision"], "lead_department": p["lead_department"],
                               "concluded_at": p["at"]})
    case.status = p["return_status"]
    _set_clock(case, p)
    return case


def _disposal(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    p = ev.payload
    case.disposals.append({"disposal": p["disposal"], "at": p["at"], "by": p.get("by", ""), "reason": p.get("reason", ""),
                           "working_days": p.get("working_days", 0), "deadline": p.get("deadline", "")
                           if p["disposal"] == "rectification_order" else "",
                           "public_warning": p.get("public_warning", ""), "credit_code": p.get("credit_code", "")})
    if p["disposal"] == "rectification_order":
        case.rectification_open = True
    case.status = "disposal"
    _set_clock(case, p)
    return case


def _rectified(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    case.rectification_open = False
    for d in reversed(case.disposals):
        if d["disposal"] == "rectification_order":
            d["completed_at"], d["on_time"] = ev.payload["at"], ev.payload["on_time"]
            break
    _set_clock(case, ev.payload)
    return case


def _closed(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    case.status, case.outcome, case.closed_at = "closed", ev.payload["outcome"], ev.payload["at"]
    case.clock = None
    return case


def _paused(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    p = ev.payload
    if case.clock is not None and case.clock.no == p["paused_clock_no"]:
        case.clock.paused_at = at_of(p["at"])
    return case


def _resumed(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    p = ev.payload
    clk = case.clock
    if clk is not None and clk.no == p["resumed_clock_no"]:
        clk.paused_total += timedelta(seconds=p["paused_seconds"])
        clk.paused_at = None
    return case


def _extended(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    p = ev.payload
    clk = case.clock
    if clk is not None and clk.no == p["extended_clock_no"]:
        clk.deadline = at_of(p["deadline"])
        clk.extensions = p["extension_no"]
    return case


def _leader(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    case.leader_person_id = ev.payload["leader_person_id"]
    return case


def _supervision(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    p = ev.payload
    case.supervision = {"supervisor": p["supervisor"], "target_date": p.get("target_date", ""), "at": p["at"],
                        "by": p.get("by", "")}
    return case


def _risk(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    case.risk = dict(ev.payload)
    case.risk.pop("case_id", None)
    return case


def _warned(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    p = ev.payload
    if case.clock is not None and case.clock.no == p["clock_no"]:
        case.clock.warned = True
    case.warnings.append({**{k: p[k] for k in ("rule", "clock_no", "level", "deadline", "responsible_person_id")},
                          "responsibility_note": p.get("responsibility_note", "")})
    return case


def _breached(case: Case | None, ev: Fact) -> Case | None:
    assert case is not None
    p = ev.payload
    if case.clock is not None and case.clock.no == p["clock_no"]:
        case.clock.breached = True
    case.breaches.append({**{k: p[k] for k in ("rule", "clock_no", "level", "deadline", "responsible_person_id",
                                               "grid_id", "consequence")},
                          "responsibility_note": p.get("responsibility_note", "")})
    return case


APPLIERS: dict[str, Applier] = {
    "case.opened": _opened,
    "case.rerouted": _rerouted,
    "case.registered": _registered,
    "case.escalated": _escalated,
    "case.bounced_back": _bounced,
    "case.marked_abnormal": _abnormal,
    "case.agency_notified": _agency_notified,
    "case.agency_responded": _agency_responded,
    "case.joint_meeting_convened": _meeting_convened,
    "case.joint_meeting_concluded": _meeting_concluded,
    "case.disposal_decided": _disposal,
    "case.rectification_completed": _rectified,
    "case.closed": _closed,
    "case.clock_paused": _paused,
    "case.clock_resumed": _resumed,
    "case.deadline_extended": _extended,
    "case.leader_assigned": _leader,
    "case.supervision_listed": _supervision,
    "case.risk_screened": _risk,
    "sla.warned": _warned,
    "sla.breached": _breached,
}

# Steps a person or the system takes on the workflow (shown in the case's history with who/when/why).
_HISTORY_ACTIONS = {
    "case.registered": "register", "case.escalated": "escalate", "case.bounced_back": "bounce_back",
    "case.marked_abnormal": "mark_abnormal", "case.agency_responded": "record_agency_response",
    "case.joint_meeting_convened": "convene_joint_meeting", "case.joint_meeting_concluded": "conclude_joint_meeting",
    "case.disposal_decided": "decide_disposal", "case.rectification_completed": "complete_rectification",
    "case.closed": "close", "case.clock_paused": "pause", "case.clock_resumed": "resume",
    "case.deadline_extended": "extend", "case.leader_assigned": "assign_leader",
    "case.supervision_listed": "list_supervision",
}


def _record_history(case: Case, ev: Fact) -> None:
    p = ev.payload
    action = _HISTORY_ACTIONS.get(ev.type)
    if ev.type == "case.escalated" and p.get("automatic"):
        action = "auto_escalate"
    entry: dict[str, Any] = {"version": ev.stream_version, "type": ev.type, "action": action or "",
                             "action_label": ACTION_LABELS.get(action or "", "超时自动上报" if action == "auto_escalate" else ""),
                             "at": p.get("at", ""), "by": p.get("by", ""), "reason": p.get("reason", ""),
                             "status": case.status, "level": case.level}
    if ev.type in ("sla.warned", "sla.breached"):
        entry.update(at=p["deadline"] if ev.type == "sla.breached" else p["warn_at"], by="",
                     reason=f"{RULE_LABELS.get(p['rule'], p['rule'])}：期限 {p['deadline']}",
                     action_label="临期预警" if ev.type == "sla.warned" else "超时")
    if ev.type == "case.opened":
        entry.update(at=p["found_at"], action_label="立案分派", reason=p.get("routing_note", ""))
    elif ev.type == "case.rerouted":
        entry.update(action_label="名册到达后重新分派", reason=p.get("routing_note", ""))
    elif ev.type == "case.agency_notified":
        entry.update(action_label=f"同时报告{AGENCY_LABELS.get(p['agency'], p['agency'])}")
    case.history.append(entry)


def fold(events: Iterable[Fact], case: Case | None = None) -> Case | None:
    """The case after `events` (in stream order), starting from `case`; None for an empty stream.

    Types without a rule still advance the version, so a reader on an older release can show a
    case whose newer events it does not understand yet."""
    for event in events:
        apply = APPLIERS.get(event.type)
        if apply is not None:
            case = apply(case, event)
        if case is not None:
            case.version = event.stream_version
            if apply is not None and event.type != "case.risk_screened":
                _record_history(case, event)
    return case
