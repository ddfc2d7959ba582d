"""What the deadline scanner must record for a case at an instant: a warning at 75%, a breach
at the deadline (attributed to whoever held the level AT the deadline), and for the handling
rules an automatic escalation one level up, starting the next level's clock at the deadline.

`due_step` is a pure function of the folded case and `now`, and every instant it writes is
derived from the case's own facts (the deadline, never the moment of the scan). So a scanner
that runs late, twice, or after a crash records the same breaches: the clock's `breached` flag
(set by the recorded `sla.breached`) makes a second decision impossible, and the handler appends
at the case's expected version so two scanners cannot both win.
"""

from __future__ import annotations

from datetime import datetime

from .case import HANDLING, Case, iso
from .deadlines import RULES
from .vocabulary import DISTRICT_LEVEL, RULE_LABELS
from .workflow import Change, Context, escalation_target, new_clock

MAX_STEPS_PER_SCAN = 12  # a case can move at most 4 levels; bounds a catch-up after a long outage


def due_step(case: Case, now: datetime, ctx: Context) -> list[Change]:
    """The next thing due on `case` at `now` (one warning, or one breach with its escalation);
    [] if nothing is due. Call again after recording it: a long outage may owe several steps."""
    clk = case.running_clock()
    if clk is None or clk.paused_at is not None:
        return []
    due = clk.due_at()
    if now >= due:
        holder = ctx.responsibility.holder(clk.level, due)
        escalate = RULES[clk.rule].escalates and case.level < DISTRICT_LEVEL
        breach = Change("sla.breached", {
            "subject_kind": "case", "subject_id": case.case_id, "rule": clk.rule, "clock_no": clk.no,
            "level": clk.level, "deadline": iso(due), "responsible_person_id": holder.person_id,
            "grid_id": holder.grid_id, "consequence": "escalated" if escalate else "recorded",
        })
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
        holder = ctx.responsibility.holder(clk.level, clk.warn_at())
        return [Change("sla.warned", {
            "subject_kind": "case", "subject_id": case.case_id, "rule": clk.rule, "clock_no": clk.no,
            "level": clk.level, "deadline": iso(due), "warn_at": iso(clk.warn_at()),
            "responsible_person_id": holder.person_id, "grid_id": holder.grid_id,
        })]
    return []
