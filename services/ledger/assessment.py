"""量化考核 (seed 000 §五): every event that counts for or against a grid person or a community,
kept as one "fact" row each, so every figure of a scorecard can be traced to the events behind it.

Facts are rows like any ledger's (one guarded upsert per event, keyed by stream and version), and
scorecards are counted from them when asked, over any period and "as of" any instant (only facts
the platform had recorded by then: e.g. the state at Friday 12:00). A case fact names its case;
its community is the case's, looked up in the case ledger when counting (escalation's later case
events do not repeat the community)."""

from __future__ import annotations

from typing import Any

from fangfei.events import Event
from fangfei.vocab import CASE_LEVELS, SLA_RULES

from .tables import local_date, utc
from .upserts import Upsert

COLLECTION = "ledger_assessment_facts"

METRICS: dict[str, str] = {
    "clue_reported": "发现上报线索",
    "registered_on_time": "按时登记",
    "registered_late": "逾期登记",
    "escalated_on_time": "按时上报上级",
    "escalated_late": "超时后自动上报",
    "bounced_back": "被退回",
    "extension": "申请延期",
    "repeated_extension": "重复延期",
    "breach": "超时",
    "obligation_on_time": "按时报送",
    "obligation_late": "逾期报送",
    "obligation_missed": "应报未报",
}


def _fact(event: Event, metric: str, person: str, at: str, *, community: str = "", case_id: str = "",
          detail: str = "") -> Upsert:
    return Upsert(
        collection=COLLECTION, doc_id=f"{event.stream_id}@{event.stream_version}", stream_id=event.stream_id,
        version=event.stream_version,
        set={"street_id": event.street_id, "community_id": community, "case_id": case_id, "person_id": person,
             "metric": metric, "at": utc(at), "period_date": local_date(at), "recorded_at": event.recorded_at,
             "event_id": event.event_id, "event_type": event.type, "detail": detail},
    )


def plan(event: Event) -> Upsert | None:
    p: dict[str, Any] = dict(event.payload)
    t = event.type
    if t == "clue.reported":
        return _fact(event, "clue_reported", p.get("reported_by") or event.actor, p["found_at"],
                     community=p["community_id"], detail=p["clue_id"])
    if t == "case.registered":
        return _fact(event, "registered_late" if p["late"] else "registered_on_time", p.get("by", ""), p["at"],
                     case_id=p["case_id"])
    if t == "case.escalated":
        metric = "escalated_late" if p["automatic"] else "escalated_on_time"
        return _fact(event, metric, p.get("by", ""), p["at"], case_id=p["case_id"],
                     detail=_levels(p))
    if t == "case.bounced_back":
        return _fact(event, "bounced_back", p.get("bounced_person_id", ""), p["at"], case_id=p["case_id"],
                     detail=_levels(p))
    if t == "case.deadline_extended":
        metric = "repeated_extension" if p["extension_no"] >= 2 else "extension"
        return _fact(event, metric, p.get("by", ""), p["at"], case_id=p["case_id"], detail=_rule(p["extended_rule"]))
    if t == "sla.breached":
        case_id = p["subject_id"] if p["subject_kind"] == "case" else ""
        return _fact(event, "breach", p.get("responsible_person_id", ""), p["deadline"], case_id=case_id,
                     detail=_rule(p["rule"]))
    if t == "obligation.submitted":
        unit = p["unit_id"] if p["unit_id"] != event.street_id else ""
        return _fact(event, "obligation_on_time" if p["on_time"] else "obligation_late",
                     p.get("responsible_person_id") or p["by"], p["at"], community=unit, detail=p["period"])
    if t == "obligation.missed":
        unit = p["unit_id"] if p["unit_id"] != event.street_id else ""
        return _fact(event, "obligation_missed", p.get("responsible_person_id", ""), p["due_at"], community=unit,
                     detail=p["period"])
    return None


FEEDS = ("clue.reported", "case.registered", "case.escalated", "case.bounced_back", "case.deadline_extended",
         "sla.breached", "obligation.submitted", "obligation.missed")


def ensure_indexes(db: Any) -> None:
    db[COLLECTION].create_index("street_id")


def _rule(code: str) -> str:
    """The 说明 column is read by people: the SLA rule's Chinese name, the code if it is a new one."""
    return SLA_RULES.get(code, code)


def _levels(p: dict[str, Any]) -> str:
    def name(level: Any) -> str:
        return CASE_LEVELS.get(int(level), str(level)) if str(level).isdigit() else str(level)
    return f"{name(p['from_level'])}→{name(p['to_level'])}"
