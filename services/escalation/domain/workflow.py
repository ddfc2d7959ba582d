"""The case workflow as an explicit state machine: which action is allowed in which status,
and what each action records.

    reported ─register→ triage(3) ─escalate(稳控)→ level2_review(2) ─escalate→ level1_review(1)
        ─escalate / mark_abnormal(+派出所、市场监督管理所、处非办)→ district(4)
    level1_review / district ─convene_joint_meeting→ joint_meeting ─conclude→ back
    level1_review / district / disposal ─decide_disposal→ disposal ─complete_rectification→ disposal
    triage … district, disposal ─close(outcome)→ closed
    level2_review / level1_review / district ─bounce_back(退回)→ the level it came from

A case opened at level 2, 1 or 4 (vacancies) is registered into that level's status. Pause,
resume, extend, 领导包案 and 挂牌督办 do not change the status. `decide(case, command, ctx)`
returns the changes to record or raises: `IllegalTransition` (action not allowed in this
status), `CommandRefused` (allowed, but a rule forbids it now), `InvalidCommand` (input lacking).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping, Protocol

from .case import HANDLING, LEVEL_OF_STATUS, RULE_OF_STATUS, Case, iso
from .deadlines import RULES, WorkingDays, clock_deadline, extended_deadline
from .errors import CommandRefused, IllegalTransition, InvalidCommand
from .vocabulary import (
    ACTION_LABELS, AGENCY_LABELS, DISPOSAL_LABELS, DISTRICT_LEVEL, LEVEL_LABELS, OUTCOME_LABELS, STATUS_LABELS,
)

MAX_EXTENSIONS = 2  # per clock; a second one is a "repeated extension" in the assessment
MAX_EXTENSION_HOURS = 72
MAX_EXTENSION_WORKING_DAYS = 10
PARALLEL_AGENCIES = ("police_station", "market_regulation", "district_office")  # seed 000 §四(二)

OPEN = ("reported", "triage", "level2_review", "level1_review", "district", "joint_meeting", "disposal")
HANDLING_STATUSES = ("triage", "level2_review", "level1_review", "district")

# The state machine: action → the statuses it may be taken from. Everything else is illegal.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "register": ("reported",) + HANDLING_STATUSES,  # in a handling status only if never registered (补登记)
    "escalate": ("triage", "level2_review", "level1_review"),
    "bounce_back": ("level2_review", "level1_review", "district"),
    "mark_abnormal": ("level1_review",),
    "record_agency_response": OPEN,
    "convene_joint_meeting": ("level1_review", "district"),
    "conclude_joint_meeting": ("joint_meeting",),
    "decide_disposal": ("level1_review", "district", "disposal"),
    "complete_rectification": ("disposal",),
    "close": HANDLING_STATUSES + ("disposal",),
    "pause": OPEN,
    "resume": OPEN,
    "extend": OPEN,
    "assign_leader": OPEN,
    "list_supervision": OPEN,
}
ACTIONS = tuple(ALLOWED_FROM)
REASON_OPTIONAL = {"register", "resume", "complete_rectification"}


@dataclass(frozen=True)
class Holder:
    """Who holds a level for a case at an instant: the grid and its chief ("" when vacant)."""

    grid_id: str
    person_id: str


class Responsibility(Protocol):
    """The roster as the domain needs it: the holder of a level of this case's chain at an instant."""

    def holder(self, level: int, at: datetime) -> Holder: ...


@dataclass(frozen=True)
class Context:
    responsibility: Responsibility
    calendar: WorkingDays


@dataclass(frozen=True)
class Command:
    action: str
    by: str
    at: datetime
    reason: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """An event to record on the case's stream: its type and payload (the handler adds the envelope)."""

    type: str
    payload: dict[str, Any]


# -- what is allowed ---------------------------------------------------------------------------

def _guard(case: Case, action: str, now: datetime | None) -> str | None:
    """Why `action` is refused now though its status allows it; None if it is fine."""
    clk = case.clock
    if action == "register" and case.registered_at:
        return "该线索已登记，无需重复登记"
    if action == "bounce_back" and not case.path:
        return "本级为首个处置层级，没有可退回的下级"
    if action == "complete_rectification" and not case.rectification_open:
        return "没有进行中的限期整改"
    if action == "conclude_joint_meeting" and not case.joint_meeting:
        return "尚未召开联席会议"
    if action == "record_agency_response" and not case.agencies:
        return "尚未向任何部门报告"
    if action in ("pause", "resume", "extend"):
        if clk is None:
            return "当前没有计时中的时限"
        if clk.breached:
            return "该时限已超时，不能暂停或延期"
        if action == "pause" and clk.paused_at is not None:
            return "计时已暂停"
        if action == "pause" and now is not None and clk.expired(now):
            # pausing a passed deadline would push it back and erase a breach nobody recorded yet
            return f"已超过期限（{iso(clk.due_at())}），不能暂停计时"
        if action == "resume" and clk.paused_at is None:
            return "计时未暂停，无需恢复"
        if action == "extend":
            if now is not None and clk.expired(now):
                return f"已超过期限（{iso(clk.due_at())}），不能申请延期"
            if clk.extensions >= MAX_EXTENSIONS:
                return f"延期次数已达上限（{MAX_EXTENSIONS}次）"
    return None


def allowed_actions(case: Case, now: datetime | None = None) -> list[str]:
    """The actions a person could take on the case now (status allows it and no rule forbids it)."""
    return [a for a in ACTIONS if case.status in ALLOWED_FROM[a] and _guard(case, a, now) is None]


def _illegal(case: Case, action: str, now: datetime) -> IllegalTransition:
    allowed = "、".join(ACTION_LABELS[a] for a in allowed_actions(case, now)) or "无"
    label = ACTION_LABELS.get(action, action)
    return IllegalTransition(
        f"案件当前状态为「{case.status_label}」，不能执行「{label}」；当前可执行：{allowed}", case.status, action
    )


# -- helpers -----------------------------------------------------------------------------------

def _param(cmd: Command, name: str, label: str) -> Any:
    value = cmd.params.get(name)
    if value in (None, "", []):
        raise InvalidCommand(f"缺少{label}", code="missing_" + name)
    return value


def new_clock(case: Case, status: str, start: datetime, ctx: Context, working_days: int = 0) -> dict[str, Any]:
    rule = RULE_OF_STATUS.get(status, "rectification" if working_days else "")
    if not rule:
        return {"rule": "", "deadline": "", "clock_no": 0}
    deadline = clock_deadline(rule, start, ctx.calendar, working_days)
    return {"rule": rule, "deadline": iso(deadline), "clock_no": case.clock_seq + 1}


def _same_clock(case: Case) -> dict[str, Any]:
    clk = case.clock
    if clk is None:
        return {"rule": "", "deadline": "", "clock_no": 0}
    return {"rule": clk.rule, "deadline": iso(clk.deadline), "clock_no": clk.no}


def _last_minute(case: Case, at: datetime) -> bool:
    return case.clock is not None and case.clock.last_minute(at)


def _base(case: Case, cmd: Command) -> dict[str, Any]:
    return {"case_id": case.case_id, "at": iso(cmd.at), "by": cmd.by, "reason": cmd.reason}


def escalation_target(level: int, at: datetime, ctx: Context) -> tuple[int, Holder, str]:
    """The next level up that has a chief at `at` (vacancies are skipped and noted), else the
    district office."""
    notes: list[str] = []
    for lvl in (2, 1) if level == 3 else (1,) if level == 2 else ():
        holder = ctx.responsibility.holder(lvl, at)
        if holder.person_id:
            return lvl, holder, "；".join(notes)
        notes.append(f"{LEVEL_LABELS[lvl]}网格长空缺")
    if notes:
        notes.append("转区处非办")
    return DISTRICT_LEVEL, Holder("", ""), "；".join(notes)


# -- one decider per action --------------------------------------------------------------------

def _register(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    found = datetime.fromisoformat(case.found_at)
    p = _base(case, cmd)
    if case.status == "reported":
        clk = case.clock
        late = clk is None or cmd.at > clk.due_at()
        p.update(new_clock(case, HANDLING[case.level], cmd.at, ctx), last_minute=_last_minute(case, cmd.at))
    else:  # 补登记 after the registration deadline was breached and the case moved up
        late = True
        p.update(_same_clock(case), last_minute=False)
    p.update(level=case.level, late=late, seconds_since_found=max(0, int((cmd.at - found).total_seconds())))
    return [Change("case.registered", p)]


def _escalate(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    stabilization = str(cmd.params.get("stabilization") or "")
    if case.level == 3 and not stabilization.strip():
        raise InvalidCommand("三级网格上报前须做好稳控工作：请填写稳控措施", code="missing_stabilization")
    to_level, holder, note = escalation_target(case.level, cmd.at, ctx)
    p = _base(case, cmd)
    p.update(automatic=False, from_level=case.level, to_level=to_level, grid_id=holder.grid_id,
             assignee_person_id=holder.person_id, stabilization=stabilization, routing_note=note,
             last_minute=_last_minute(case, cmd.at))
    p.update(new_clock(case, HANDLING[to_level], cmd.at, ctx))
    return [Change("case.escalated", p)]


def _bounce_back(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    came_from = case.path[-1]
    to_level = int(came_from["level"])
    holder = ctx.responsibility.holder(to_level, cmd.at)
    if to_level != DISTRICT_LEVEL and not holder.person_id:
        raise CommandRefused(f"{LEVEL_LABELS[to_level]}网格长空缺，不能退回", code="vacant")
    p = _base(case, cmd)
    p.update(from_level=case.level, to_level=to_level, grid_id=holder.grid_id, assignee_person_id=holder.person_id,
             bounced_person_id=came_from.get("person", "") or came_from.get("by", ""),
             last_minute=_last_minute(case, cmd.at))
    p.update(new_clock(case, HANDLING[to_level], cmd.at, ctx))
    return [Change("case.bounced_back", p)]


def _agencies(cmd: Command, key: str, default: tuple[str, ...]) -> list[str]:
    chosen = list(cmd.params.get(key) or default)
    unknown = [a for a in chosen if a not in AGENCY_LABELS]
    if unknown:
        raise InvalidCommand(f"未知部门：{'、'.join(unknown)}", code="unknown_agency")
    return list(dict.fromkeys(chosen))


def _mark_abnormal(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    agencies = _agencies(cmd, "agencies", PARALLEL_AGENCIES)
    for must in PARALLEL_AGENCIES:  # seed 000 §四(二): police, market regulation and the 处非办, always
        if must not in agencies:
            agencies.append(must)
    base = _base(case, cmd)
    changes = [Change("case.marked_abnormal", {**base, "agencies": agencies})]
    changes += [Change("case.agency_notified", {**base, "agency": a}) for a in agencies]
    up = {**base, "reason": f"一级网格发现异常，向上级平台报告：{cmd.reason}"[:500], "automatic": False,
          "from_level": case.level, "to_level": DISTRICT_LEVEL, "grid_id": "", "assignee_person_id": "",
          "stabilization": str(cmd.params.get("stabilization") or ""), "routing_note": "",
          "last_minute": _last_minute(case, cmd.at)}
    up.update(new_clock(case, HANDLING[DISTRICT_LEVEL], cmd.at, ctx))
    return changes + [Change("case.escalated", up)]


def _agency_response(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    agency = _param(cmd, "agency", "反馈部门")
    if agency not in case.agencies:
        raise CommandRefused(f"未曾向「{AGENCY_LABELS.get(agency, agency)}」报告本案", code="agency_not_notified")
    p = _base(case, cmd)
    p.update(agency=agency, response=_param(cmd, "response", "反馈内容"))
    return [Change("case.agency_responded", p)]


def _convene(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    departments = _agencies(cmd, "departments", ())
    if not departments:
        raise InvalidCommand("联席会议须列明参会部门", code="missing_departments")
    p = _base(case, cmd)
    p.update(departments=departments, return_status=case.status, last_minute=_last_minute(case, cmd.at))
    p.update(new_clock(case, "joint_meeting", cmd.at, ctx))
    return [Change("case.joint_meeting_convened", p)]


def _conclude(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    lead = _param(cmd, "lead_department", "牵头部门")
    if lead not in AGENCY_LABELS:
        raise InvalidCommand(f"未知部门：{lead}", code="unknown_agency")
    back = case.joint_meeting["return_status"]
    p = _base(case, cmd)
    p.update(decision=_param(cmd, "decision", "裁决意见"), lead_department=lead, return_status=back,
             last_minute=_last_minute(case, cmd.at))
    p.update(new_clock(case, back, cmd.at, ctx))
    return [Change("case.joint_meeting_concluded", p)]


def _dispose(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    disposal = _param(cmd, "disposal", "处置类别")
    if disposal not in DISPOSAL_LABELS:
        raise InvalidCommand(f"未知处置类别：{disposal}", code="unknown_disposal")
    p = _base(case, cmd)
    p.update(disposal=disposal, working_days=0, public_warning=str(cmd.params.get("public_warning") or ""),
             credit_code=str(cmd.params.get("credit_code") or ""), last_minute=_last_minute(case, cmd.at))
    if disposal == "rectification_order":
        days = cmd.params.get("working_days")
        if not isinstance(days, int) or not 1 <= days <= 90:
            raise InvalidCommand("责令限期整改须给出整改期限（1–90个工作日）", code="missing_working_days")
        p["working_days"] = days
        p.update(new_clock(case, "disposal", cmd.at, ctx, working_days=days))
    elif disposal == "joint_review" and not p["public_warning"].strip():
        raise InvalidCommand("会商研判须填写面向公众的预警提示", code="missing_public_warning")
    elif case.rectification_open:
        p.update(_same_clock(case))  # an open rectification order keeps running
    else:
        p.update(rule="", deadline="", clock_no=0)
    changes = [Change("case.disposal_decided", p)]
    if disposal == "transfer_police" and "police_station" not in case.agencies:
        changes.append(Change("case.agency_notified", {**_base(case, cmd), "agency": "police_station"}))
    return changes


def _complete_rectification(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    clk = case.clock
    on_time = clk is None or clk.rule != "rectification" or not clk.expired(cmd.at)
    p = _base(case, cmd)
    p.update(on_time=on_time, rule="", deadline="", clock_no=0, last_minute=_last_minute(case, cmd.at))
    return [Change("case.rectification_completed", p)]


def _close(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    outcome = _param(cmd, "outcome", "办结结果")
    if outcome not in OUTCOME_LABELS:
        raise InvalidCommand(f"未知办结结果：{outcome}", code="unknown_outcome")
    p = _base(case, cmd)
    p.update(outcome=outcome, level=case.level, rule="", deadline="", clock_no=0,
             last_minute=_last_minute(case, cmd.at))
    return [Change("case.closed", p)]


def _pause(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    assert case.clock is not None
    waiting_on = _param(cmd, "waiting_on", "等待的部门")
    if waiting_on not in AGENCY_LABELS:
        raise InvalidCommand(f"未知部门：{waiting_on}", code="unknown_agency")
    p = _base(case, cmd)
    p.update(paused_rule=case.clock.rule, paused_clock_no=case.clock.no, waiting_on=waiting_on)
    return [Change("case.clock_paused", p)]


def _resume(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    clk = case.clock
    assert clk is not None and clk.paused_at is not None
    p = _base(case, cmd)
    p.update(resumed_rule=clk.rule, resumed_clock_no=clk.no,
             paused_seconds=max(0, int((cmd.at - clk.paused_at) // timedelta(seconds=1))))
    return [Change("case.clock_resumed", p)]


def _extend(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    clk = case.clock
    assert clk is not None
    hours, days = int(cmd.params.get("hours") or 0), int(cmd.params.get("working_days") or 0)
    by_hours = RULES[clk.rule].unit == "hours"
    if by_hours and not (1 <= hours <= MAX_EXTENSION_HOURS and not days):
        raise InvalidCommand(f"该时限按日历小时计算，请以小时申请延期（1–{MAX_EXTENSION_HOURS}小时）", code="extension_unit")
    if not by_hours and not (1 <= days <= MAX_EXTENSION_WORKING_DAYS and not hours):
        raise InvalidCommand(f"该时限按工作日计算，请以工作日申请延期（1–{MAX_EXTENSION_WORKING_DAYS}个工作日）",
                             code="extension_unit")
    new = extended_deadline(clk.deadline, ctx.calendar, hours=hours, working_days=days)
    p = _base(case, cmd)
    p.update(extended_rule=clk.rule, extended_clock_no=clk.no, extension_no=clk.extensions + 1, hours=hours,
             working_days=days, previous_deadline=iso(clk.deadline), deadline=iso(new))
    return [Change("case.deadline_extended", p)]


def _assign_leader(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    p = _base(case, cmd)
    p["leader_person_id"] = _param(cmd, "leader_person_id", "包案领导")
    return [Change("case.leader_assigned", p)]


def _list_supervision(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    p = _base(case, cmd)
    target = cmd.params.get("target_date")
    p.update(supervisor=_param(cmd, "supervisor", "督办单位"), target_date=iso(target) if target else "")
    return [Change("case.supervision_listed", p)]


DECIDERS: dict[str, Callable[[Case, Command, Context], list[Change]]] = {
    "register": _register,
    "escalate": _escalate,
    "bounce_back": _bounce_back,
    "mark_abnormal": _mark_abnormal,
    "record_agency_response": _agency_response,
    "convene_joint_meeting": _convene,
    "conclude_joint_meeting": _conclude,
    "decide_disposal": _dispose,
    "complete_rectification": _complete_rectification,
    "close": _close,
    "pause": _pause,
    "resume": _resume,
    "extend": _extend,
    "assign_leader": _assign_leader,
    "list_supervision": _list_supervision,
}


def decide(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    """The changes `cmd` records on `case`, or the reason it is refused."""
    if cmd.action not in DECIDERS:
        raise InvalidCommand(f"未知操作：{cmd.action}", code="unknown_action")
    if cmd.at.tzinfo is None:
        raise InvalidCommand("操作时间须带时区", code="naive_time")
    if case.status not in ALLOWED_FROM[cmd.action]:
        raise _illegal(case, cmd.action, cmd.at)
    why = _guard(case, cmd.action, cmd.at)
    if why is not None:
        raise CommandRefused(why, code=f"{cmd.action}_refused")
    if cmd.action not in REASON_OPTIONAL and not cmd.reason.strip():
        raise InvalidCommand(f"「{ACTION_LABELS[cmd.action]}」须说明理由", code="missing_reason")
    if not cmd.by:
        raise InvalidCommand("须注明操作人", code="missing_actor")
    return DECIDERS[cmd.action](case, cmd, ctx)


def target_status(case: Case, changes: list[Change]) -> str:
    """The status the case will be in after `changes` (for tests and messages)."""
    status = case.status
    for ch in changes:
        p = ch.payload
        if ch.type == "case.registered" and status == "reported":
            status = HANDLING[case.level]
        elif ch.type in ("case.escalated", "case.bounced_back"):
            status = HANDLING[p["to_level"]]
        elif ch.type == "case.joint_meeting_convened":
            status = "joint_meeting"
        elif ch.type == "case.joint_meeting_concluded":
            status = p["return_status"]
        elif ch.type == "case.disposal_decided":
            status = "disposal"
        elif ch.type == "case.closed":
            status = "closed"
    return status


__all__ = ["ALLOWED_FROM", "ACTIONS", "Change", "Command", "Context", "Holder", "Responsibility", "allowed_actions",
           "decide", "escalation_target", "target_status", "STATUS_LABELS", "LEVEL_OF_STATUS"]
