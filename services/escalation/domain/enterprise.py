"""Risk enterprises (风险企业) as seen by one street, keyed by 统一社会信用代码.

Stream `enterprise-<street>.<credit code>`: sightings (from clues, or registered by hand when an
enterprise moves in or out: 异动登记), cross-street flags, the 红黄绿 tag a person sets, and the
one current plan (一企一策). The same code sighted in two streets flags the enterprise in both,
so a risk enterprise that moves and reappears under a new name is still recognised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Sequence

from .case import Fact, at_of, iso
from .errors import InvalidCommand
from .vocabulary import RISK_TAG_LABELS
from .workflow import Change


@dataclass
class Enterprise:
    credit_code: str
    street_id: str
    name: str = ""
    address: str = ""
    sightings: list[dict[str, Any]] = field(default_factory=list)
    other_streets: list[str] = field(default_factory=list)
    suggested_tag: str = ""
    score: int = 0
    tag: str = ""
    tag_reason: str = ""
    tagged_at: str = ""
    tagged_by: str = ""
    tag_history: list[dict[str, Any]] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)
    plan_no: int = 0  # plans set so far: the number of the plan's deadline "clock"
    version: int = 0

    def plan_overdue(self, now: datetime) -> bool:
        return bool(self.plan) and now > at_of(self.plan["deadline"])

    def plan_deadline(self) -> datetime | None:
        return at_of(self.plan["deadline"]) if self.plan and not self.plan.get("breached") else None

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {
            "credit_code": self.credit_code, "street_id": self.street_id, "name": self.name, "address": self.address,
            "sightings": self.sightings, "cross_street": bool(self.other_streets),
            "other_streets": self.other_streets, "suggested_tag": self.suggested_tag, "score": self.score,
            "tag": self.tag, "tag_label": RISK_TAG_LABELS.get(self.tag, "未挂牌"), "tag_reason": self.tag_reason,
            "tagged_at": self.tagged_at, "tagged_by": self.tagged_by, "tag_history": self.tag_history,
            "plan": self.plan, "plan_overdue": self.plan_overdue(now) if now else False, "version": self.version,
        }


def fold_enterprise(facts: Iterable[Fact]) -> Enterprise | None:
    ent: Enterprise | None = None
    for f in facts:
        p = f.payload
        if ent is None:
            ent = Enterprise(p["credit_code"], f.street_id)
        if f.type == "enterprise.sighted":
            ent.name = p.get("name") or ent.name
            ent.address = p.get("address") or ent.address
            ent.sightings.append({"source": p["source"], "clue_id": p.get("clue_id", ""), "case_id": p.get("case_id", ""),
                                  "at": p["at"], "movement": p.get("movement", ""), "score": p.get("score", 0),
                                  "suggested_tag": p.get("suggested_tag", "")})
            if p.get("suggested_tag") and p.get("score", 0) >= ent.score:
                ent.suggested_tag, ent.score = p["suggested_tag"], p["score"]
        elif f.type == "enterprise.cross_street_flagged":
            if p["other_street_id"] not in ent.other_streets:
                ent.other_streets.append(p["other_street_id"])
        elif f.type == "enterprise.risk_tagged":
            ent.tag, ent.tag_reason, ent.tagged_at, ent.tagged_by = p["tag"], p["reason"], p["at"], p["by"]
            ent.tag_history.append({"tag": p["tag"], "reason": p["reason"], "at": p["at"], "by": p["by"]})
        elif f.type == "enterprise.plan_set":
            ent.plan_no += 1
            ent.plan = {k: p[k] for k in ("measures", "responsible_person_id", "leader_person_id", "deadline", "at", "by")}
            ent.plan.update(plan_no=ent.plan_no, breached=False)
        elif f.type == "sla.breached" and p["clock_no"] == ent.plan_no and ent.plan:
            ent.plan["breached"] = True
        ent.version = f.stream_version
    return ent


def decide_sighting(ent: Enterprise | None, credit_code: str, at: datetime, *, source: str, name: str = "",
                    address: str = "", clue_id: str = "", case_id: str = "", score: int = 0,
                    suggested_tag: str = "", movement: str = "", by: str = "") -> Change | None:
    """A sighting, or None if this clue was already recorded (a redelivered clue)."""
    if ent is not None and clue_id and any(s["clue_id"] == clue_id for s in ent.sightings):
        return None
    return Change("enterprise.sighted", {
        "credit_code": credit_code, "name": name[:200], "address": address[:300], "source": source,
        "clue_id": clue_id, "case_id": case_id, "score": score, "suggested_tag": suggested_tag,
        "movement": movement, "at": iso(at), "by": by,
    })


def decide_flag(ent: Enterprise, other_street: str, at: datetime) -> Change | None:
    """A cross-street flag, once per other street."""
    if other_street == ent.street_id or other_street in ent.other_streets:
        return None
    return Change("enterprise.cross_street_flagged",
                  {"credit_code": ent.credit_code, "other_street_id": other_street, "at": iso(at)})


def decide_tag(ent: Enterprise, tag: str, reason: str, by: str, at: datetime) -> Change:
    if tag not in RISK_TAG_LABELS:
        raise InvalidCommand(f"风险等级须为红、黄、绿之一：{tag}", code="bad_tag")
    if not reason.strip():
        raise InvalidCommand("挂牌须说明理由", code="missing_reason")
    return Change("enterprise.risk_tagged",
                  {"credit_code": ent.credit_code, "tag": tag, "reason": reason, "at": iso(at), "by": by})


def decide_plan(ent: Enterprise, measures: Sequence[str], responsible: str, leader: str, deadline: datetime,
                by: str, at: datetime) -> Change:
    """一企一策: one plan per enterprise; a new plan replaces the current one."""
    clean = [m.strip() for m in measures if m and m.strip()]
    if not clean:
        raise InvalidCommand("一企一策须列明管控措施", code="missing_measures")
    if deadline <= at:
        raise InvalidCommand("整改期限须晚于当前时间", code="deadline_in_past")
    return Change("enterprise.plan_set", {
        "credit_code": ent.credit_code, "measures": clean, "responsible_person_id": responsible,
        "leader_person_id": leader, "deadline": iso(deadline), "at": iso(at), "by": by,
    })


def decide_plan_breach(ent: Enterprise, now: datetime) -> Change | None:
    """The plan's deadline passed: one breach per plan, attributed to the person the plan names
    as responsible (一企一策 names them explicitly; the street office is level 1)."""
    deadline = ent.plan_deadline()
    if deadline is None or now <= deadline:
        return None
    return Change("sla.breached", {
        "subject_kind": "enterprise", "subject_id": ent.credit_code, "rule": "enterprise_plan",
        "clock_no": ent.plan_no, "level": 1, "deadline": iso(deadline),
        "responsible_person_id": ent.plan["responsible_person_id"], "grid_id": "", "consequence": "recorded",
    })
