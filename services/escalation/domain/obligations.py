"""Report cadences as obligations (报送义务): who owes which report by when, and its verdict.

An obligation is identified by `<kind>:<unit>:<period>`:
- `weekly:<community>:2026-W11`  周报, due Friday 12:00 of that ISO week (seed 000 §四(三));
- `monthly:<community>:2026-03`  专项行动月度进展, due the 20th (seed 004 §四);
- `sweep:<street>:2026-02.30`    公共安全办 集中清查情况汇总, due the 15th and the 30th (the last day
  of a shorter month) — a street-level duty (seed 003 §三), so its unit is the street;
- `campaign:<community>:<campaign>.<phase>`  a campaign phase deadline (configurable).

Obligations are not stored until something happens to them: the schedule is a pure function
of the calendar, and the stream `obligation-<street>:<id>` holds `obligation.reminder_due` (once,
a lead time before the deadline), `obligation.submitted` and/or `obligation.missed`. Verdicts: open (待报送) → on_time (按时报送) | late (逾期报送) | missed (逾期未报);
a report submitted after `missed` was recorded makes it late.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping

from fangfei.clock import SHANGHAI

from .case import Fact, at_of, iso
from .deadlines import END_OF_DAY, cadence_dues, monthly_due, sweep_due, weekly_due
from .errors import CommandRefused, InvalidCommand
from .vocabulary import OBLIGATION_KIND_LABELS, OBLIGATION_STATUS_LABELS
from .workflow import Change

COMMUNITY_KINDS = ("weekly", "monthly")
STREET_KINDS = ("sweep",)
_PERIOD = {
    "weekly": re.compile(r"^(\d{4})-W(\d{2})$"),
    "monthly": re.compile(r"^(\d{4})-(\d{2})$"),
    "sweep": re.compile(r"^(\d{4})-(\d{2})\.(15|30)$"),
    "campaign": re.compile(r"^([A-Za-z0-9][A-Za-z0-9_-]{0,31})\.([A-Za-z0-9][A-Za-z0-9_-]{0,31})$"),
}


@dataclass(frozen=True)
class Phase:
    phase_id: str
    name: str
    due_at: datetime


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    street_id: str
    phases: tuple[Phase, ...]
    community_ids: tuple[str, ...]  # empty: every community of the street
    defined_at: datetime

    def applies_to(self, community_id: str) -> bool:
        return not self.community_ids or community_id in self.community_ids


def campaign_from_fact(fact: Fact) -> Campaign:
    p = fact.payload
    return Campaign(p["campaign_id"], p["name"], fact.street_id,
                    tuple(Phase(ph["phase_id"], ph["name"], at_of(ph["due_at"])) for ph in p["phases"]),
                    tuple(p["community_ids"]), at_of(p["at"]))


@dataclass(frozen=True)
class Obligation:
    obligation_id: str
    kind: str
    unit_id: str
    period: str
    due_at: datetime
    title: str

    def as_dict(self) -> dict[str, Any]:
        return {"obligation_id": self.obligation_id, "kind": self.kind, "kind_label": OBLIGATION_KIND_LABELS[self.kind],
                "unit_id": self.unit_id, "period": self.period, "due_at": iso(self.due_at), "title": self.title}


def obligation_id(kind: str, unit_id: str, period: str) -> str:
    return f"{kind}:{unit_id}:{period}"


def unit_kind_of(kind: str) -> str:
    return "street" if kind in STREET_KINDS else "community"


def _title(kind: str, period: str, campaign: Campaign | None = None, phase: Phase | None = None) -> str:
    if kind == "weekly":
        y, w = period.split("-W")
        return f"{y}年第{int(w)}周周报"
    if kind == "monthly":
        y, m = period.split("-")
        return f"{y}年{int(m)}月专项行动进展"
    if kind == "sweep":
        ym, half = period.split(".")
        y, m = ym.split("-")
        return f"{y}年{int(m)}月{'上' if half == '15' else '下'}半月集中清查情况汇总"
    assert campaign is not None and phase is not None
    return f"{campaign.name}·{phase.name}"


def obligation(kind: str, unit_id: str, period: str, campaigns: Mapping[str, Campaign] | None = None) -> Obligation:
    """The obligation named by its parts; InvalidCommand if the period is not one of `kind`'s."""
    pattern = _PERIOD.get(kind)
    m = pattern.match(period) if pattern else None
    if m is None:
        raise InvalidCommand(f"报送周期格式不正确：{kind} {period}", code="bad_period")
    try:
        if kind == "weekly":
            due = weekly_due(int(m.group(1)), int(m.group(2)))
        elif kind == "monthly":
            due = monthly_due(int(m.group(1)), int(m.group(2)))
        elif kind == "sweep":
            due = sweep_due(int(m.group(1)), int(m.group(2)), 1 if m.group(3) == "15" else 2)
        else:
            campaign = (campaigns or {}).get(m.group(1))
            phase = next((ph for ph in campaign.phases if ph.phase_id == m.group(2)), None) if campaign else None
            if campaign is None or phase is None or not campaign.applies_to(unit_id):
                raise InvalidCommand(f"没有这个专项行动阶段：{period}", code="unknown_campaign_phase")
            return Obligation(obligation_id(kind, unit_id, period), kind, unit_id, period, phase.due_at,
                              _title(kind, period, campaign, phase))
    except ValueError as exc:
        raise InvalidCommand(f"报送周期不存在：{period}", code="bad_period") from exc
    return Obligation(obligation_id(kind, unit_id, period), kind, unit_id, period, due, _title(kind, period))


def parse_obligation_id(oid: str, campaigns: Mapping[str, Campaign] | None = None) -> Obligation:
    parts = oid.split(":")
    if len(parts) != 3 or parts[0] not in _PERIOD:
        raise InvalidCommand(f"报送义务编号格式不正确：{oid}", code="bad_obligation_id")
    return obligation(parts[0], parts[1], parts[2], campaigns)


def due_between(unit_id: str, unit_kind: str, after: datetime, until: datetime,
                campaigns: Iterable[Campaign] = ()) -> list[Obligation]:
    """Every obligation of the unit due in (after, until], by due time."""
    out: list[Obligation] = []
    kinds = STREET_KINDS if unit_kind == "street" else COMMUNITY_KINDS
    for kind in kinds:
        for d in cadence_dues(kind, after, until):
            out.append(Obligation(obligation_id(kind, unit_id, d.period), kind, unit_id, d.period, d.due_at,
                                  _title(kind, d.period)))
    if unit_kind == "community":
        for c in campaigns:
            if not c.applies_to(unit_id):
                continue
            for ph in c.phases:
                # a phase that ended before the campaign was entered was never owed here
                if after < ph.due_at <= until and ph.due_at > c.defined_at:
                    period = f"{c.campaign_id}.{ph.phase_id}"
                    out.append(Obligation(obligation_id("campaign", unit_id, period), "campaign", unit_id, period,
                                          ph.due_at, _title("campaign", period, c, ph)))
    return sorted(out, key=lambda o: (o.due_at, o.obligation_id))


@dataclass
class ObligationState:
    obligation: Obligation
    submitted_at: str = ""
    submitted_by: str = ""
    on_time: bool | None = None
    missed_recorded: bool = False
    reminded: bool = False
    responsible_person_id: str = ""
    responsibility_note: str = ""
    summary: str = ""
    version: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def status(self, now: datetime) -> str:
        if self.submitted_at:
            return "on_time" if self.on_time else "late"
        if self.missed_recorded or now > self.obligation.due_at:
            return "missed"
        return "open"

    def as_dict(self, now: datetime) -> dict[str, Any]:
        status = self.status(now)
        return {**self.obligation.as_dict(), "status": status, "status_label": OBLIGATION_STATUS_LABELS[status],
                "submitted_at": self.submitted_at, "submitted_by": self.submitted_by,
                "responsible_person_id": self.responsible_person_id,
                "responsibility_note": self.responsibility_note, "summary": self.summary,
                "version": self.version}


def fold_obligation(ob: Obligation, facts: Iterable[Fact]) -> ObligationState:
    state = ObligationState(ob)
    for f in facts:
        p = f.payload
        if f.type == "obligation.submitted":
            state.submitted_at, state.submitted_by, state.on_time = p["at"], p["by"], p["on_time"]
            state.summary = p.get("summary", "")
            if p.get("responsible_person_id", "") or not state.missed_recorded:
                state.responsible_person_id = p.get("responsible_person_id", "")
                state.responsibility_note = p.get("responsibility_note", "")
        elif f.type == "obligation.missed":
            state.missed_recorded = True
            state.responsible_person_id = p.get("responsible_person_id", "")
            state.responsibility_note = p.get("responsibility_note", "")
        elif f.type == "obligation.reminder_due":
            # not who answers for it: that is decided at the deadline (missed / submission)
            state.reminded = True
        state.version = f.stream_version
    return state


def on_time(due_at: datetime, at: datetime) -> bool:
    """Submitted by the deadline: compared to the second (the deadline is written to the second)."""
    return at.replace(microsecond=0) <= due_at


def decide_submission(state: ObligationState, by: str, at: datetime, summary: str, responsible: str,
                      note: str = "", tracked_since: datetime | None = None, grid_id: str = "") -> list[Change]:
    """`obligation.submitted` (on time or late). A late one whose miss nobody recorded yet records
    `obligation.missed` first, in the same commit — as the scanner would have at the deadline, so
    the facts do not depend on whether the scanner passed between the deadline and the report.
    Only for a deadline after tracking started (`tracked_since`; None: not tracked yet), like the
    scanner: an older deadline was never owed here."""
    if state.submitted_at:
        raise CommandRefused(f"该报送义务已于 {state.submitted_at} 报送", code="already_submitted")
    if not by:
        raise InvalidCommand("须注明报送人", code="missing_actor")
    ob = state.obligation
    changes = []
    if not on_time(ob.due_at, at) and tracked_since is not None and ob.due_at > tracked_since:
        missed = decide_missed(state, at, responsible, grid_id, note)
        if missed is not None:
            changes.append(missed)
    changes.append(Change("obligation.submitted", {
        "obligation_id": ob.obligation_id, "kind": ob.kind, "unit_id": ob.unit_id, "period": ob.period,
        "due_at": iso(ob.due_at), "at": iso(at), "by": by, "on_time": on_time(ob.due_at, at),
        "responsible_person_id": responsible, "summary": summary, "responsibility_note": note,
    }))
    return changes


def decide_missed(state: ObligationState, now: datetime, responsible: str, grid_id: str,
                  note: str = "") -> Change | None:
    """`obligation.missed` once the deadline has passed with nothing submitted; None otherwise."""
    ob = state.obligation
    if state.submitted_at or state.missed_recorded or now <= ob.due_at:
        return None
    return Change("obligation.missed", {
        "obligation_id": ob.obligation_id, "kind": ob.kind, "unit_id": ob.unit_id, "period": ob.period,
        "due_at": iso(ob.due_at), "responsible_person_id": responsible, "grid_id": grid_id,
        "responsibility_note": note,
    })


DEFAULT_REMINDER_LEAD_H = 24


def reminder_at(ob: Obligation, lead_hours: int, tracked_since: datetime) -> datetime:
    """When the reminder of `ob` is due: `lead_hours` before its deadline, or when tracking of
    its unit started if that was later (a deadline closer than the lead to the start is still
    reminded, at once). A pure function of facts, so a late scan or a replay names the same
    instant and therefore the same person."""
    return max(ob.due_at - timedelta(hours=lead_hours), tracked_since)


def decide_reminder(state: ObligationState, now: datetime, lead_hours: int, tracked_since: datetime,
                    responsible: str, grid_id: str, note: str = "") -> Change | None:
    """`obligation.reminder_due` once `now` is within the lead of the deadline, if nothing is
    submitted yet, no reminder was recorded, the deadline has not passed and it falls after
    tracking started (an older deadline is owed nothing, like `missed`); None otherwise."""
    ob = state.obligation
    if state.submitted_at or state.reminded or state.missed_recorded:
        return None
    if ob.due_at <= tracked_since or now >= ob.due_at or now < ob.due_at - timedelta(hours=lead_hours):
        return None
    return Change("obligation.reminder_due", {
        "obligation_id": ob.obligation_id, "kind": ob.kind, "unit_id": ob.unit_id, "period": ob.period,
        "title": ob.title, "due_at": iso(ob.due_at), "at": iso(reminder_at(ob, lead_hours, tracked_since)),
        "lead_hours": lead_hours, "responsible_person_id": responsible, "grid_id": grid_id,
        "responsibility_note": note,
    })


def phase_due(day: date | datetime) -> datetime:
    """A campaign phase given as a date ends at 24:00 of it (23:59:59 Asia/Shanghai)."""
    if isinstance(day, datetime):
        if day.tzinfo is None:
            raise InvalidCommand("阶段截止时间须带时区", code="naive_time")
        return day.astimezone(SHANGHAI)
    return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)
