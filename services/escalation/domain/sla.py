"""What the deadline scanner must record for a case at an instant: a warning at 75%, a breach
at the deadline (attributed to whoever held the CASE at the deadline: the person it was routed,
re-routed, escalated or bounced to, never the grid's chief of the moment; nobody is said so), and
for the handling rules an automatic escalation one level up, starting the next level's clock at
the deadline.

A person's step taken after the running clock's deadline that ends that clock (registering late,
escalating or closing after the review day…) records the breach itself, in the same commit and
before the step (`decide_step`): lateness never depends on whether the scanner passed between the
deadline and the step. Whichever comes first — the scanner or the late step — appends at the
version it read, and the other finds the clock breached or replaced, so it is recorded once.

`due_step` is a pure function of the folded case and `now`, and every instant it writes is
derived from the case's own facts (the deadline, never the moment of the scan). So a scanner
that runs late, twice, or after a crash records the same breaches: the clock's `breached` flag
(set by the recorded `sla.breached`) makes a second decision impossible, and the handler appends
at the case's expected version so two scanners cannot both win.
"""

from __future__ import annotations

from datetime import datetime

from .case import HANDLING, Case, SlaClock, iso
from .deadlines import RULES
from .vocabulary import DISTRICT_LEVEL, LEVEL_LABELS, RULE_LABELS
from .workflow import Change, Command, Context, Holder, decide, escalation_target, new_clock

MAX_STEPS_PER_SCAN = 12  # a case can move at most 4 levels; bounds a catch-up after a long outage


NOBODY = "该时点无人负责"
# step types whose applier replaces or stops the running clock (case._set_clock / _closed)
CLOCK_STEPS = frozenset({"case.registered", "case.escalated", "case.bounced_back", "case.joint_meeting_convened",
                         "case.joint_meeting_concluded", "case.disposal_decided", "case.rectification_completed",
                         "case.closed"})


def case_holder(case: Case, at: datetime) -> tuple[Holder, str]:
    """Who held `case` at `at`, and a note when that was nobody (or it cannot be told)."""
    held = case.holder_at(at)
    if held is None:
        return Holder("", ""), f"{NOBODY}（案件尚未分派）"
    if held.person_id:
        return Holder(held.grid_id, held.person_id), ""
    if held.level == DISTRICT_LEVEL:
        return Holder(held.grid_id, ""), f"{NOBODY}（案件在区处非办，未指定责任人）"
    return Holder(held.grid_id, ""), f"{NOBODY}（{LEVEL_LABELS.get(held.level, str(held.level))}长空缺）"


def _breach(case: Case, clk: SlaClock, consequence: str) -> Change:
    due = clk.due_at()
    holder, note = case_holder(case, due)
    return Change("sla.breached", {
        "subject_kind": "case", "subject_id": case.case_id, "rule": clk.rule, "clock_no": clk.no,
        "level": clk.level, "deadline": iso(due), "responsible_person_id": holder.person_id,
        "grid_id": holder.grid_id, "consequence": consequence, "responsibility_note": note,
    })


def due_step(case: Case, now: datetime, ctx: Context) -> list[Change]:
    """The next thing due on `case` at `now` (one warning, or one breach with its escalation);
    [] if nothing is due. Call again after recording it: a long outage may owe several steps."""
    clk = case.running_clock()
    if clk is None or clk.paused_at is not None:
        return []
    due = clk.due_at()
    if now >= due:
        escalate = RULES[clk.rule].escalates and case.level < DISTRICT_LEVEL
        breach = _breach(case, clk, "escalated" if escalate else "recorded")
        if not escalate:
            return [breach]
        to_level, target, note = escalation_target(case.level, due, ctx)
        up = {
            "case_id": case.case_id, "at": iso(due), "by": "", "automatic": True,
            "reason": f"{RULE_LABELS.get(clk.rule, clk.rule)}超时（期限 {iso(due)}），自动上报上一级",
            "from_level": case.level, "to_level": to_level, "grid_id": target.grid_id,
            "assignee_person_id": target.person_id, "stabilization": "", "routing_note": note, "last_minute": False,
        }
        up.update(new_clock(case, HANDLING[to_level], due, ctx))
        return [breach, Change("case.escalated", up)]
    if not clk.warned and now >= clk.warn_at():
        holder, note = case_holder(case, clk.warn_at())
        return [Change("sla.warned", {
            "subject_kind": "case", "subject_id": case.case_id, "rule": clk.rule, "clock_no": clk.no,
            "level": clk.level, "deadline": iso(due), "warn_at": iso(clk.warn_at()),
            "responsible_person_id": holder.person_id, "grid_id": holder.grid_id, "responsibility_note": note,
        })]
    return []


def ends_clock(clk: SlaClock, changes: list[Change]) -> bool:
    """Whether `changes` replace or stop the running clock `clk` (a new clock number, or none)."""
    for ch in changes:
        if ch.type not in CLOCK_STEPS:
            continue
        p = ch.payload
        if ch.type == "case.closed" or not p.get("rule") or int(p.get("clock_no") or 0) != clk.no:
            return True
    return False


def late_breach(case: Case, at: datetime, changes: list[Change]) -> list[Change]:
    """The breach a step at `at` must record before `changes`: the running clock's deadline had
    passed (judged as a late registration is: after the deadline) and nobody recorded its breach yet, and the step
    ends that clock — so no scanner will ever look at it again. The step itself is the handling, so
    the breach escalates nothing (`consequence` "recorded")."""
    clk = case.running_clock()
    if clk is None or clk.paused_at is not None or at <= clk.due_at():
        return []
    return [_breach(case, clk, "recorded")] if ends_clock(clk, changes) else []


def decide_step(case: Case, cmd: Command, ctx: Context) -> list[Change]:
    """`workflow.decide`, plus the breach of the clock the step ends late (see `late_breach`)."""
    changes = decide(case, cmd, ctx)
    return late_breach(case, cmd.at, changes) + changes
