"""A generated history of the district: clues, their cases' whole workflow, SLA breaches, report
obligations, enterprises, every typed record, 十个一 items and the roster's communities, across
three streets. All names and ids are synthetic.

Events are built directly as stamped envelopes (fast enough for 100,000+); the first event of
every type is also validated through `new_event`, so the payloads are the catalogue's."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from fangfei.clock import to_iso
from fangfei.events import Event, new_event

STREETS = ("longgang", "pingshan", "xinzhan")
COMMUNITIES = {s: tuple(f"{s[:2]}c{i}" for i in range(4)) for s in STREETS}
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=timezone.utc)


class History:
    def __init__(self, seed: int = 5) -> None:
        self.rng = random.Random(seed)
        self.validated: set[str] = set()
        self.n = 0

    def _event(self, type_: str, stream: str, version: int, street: str, payload: dict[str, Any],
               at: datetime) -> Event:
        if type_ not in self.validated:  # once per type: the payload shape is the catalogue's
            new_event(type_, stream, street, payload, actor="gen", occurred_at=at)
            self.validated.add(type_)
        self.n += 1
        return Event(type=type_, stream_id=stream, street_id=street, payload=payload, actor="wg-gen",
                     occurred_at=to_iso(at), event_id=f"00000000-0000-4000-8000-{self.n:012d}",
                     stream_version=version, recorded_at=to_iso(at))

    def _at(self, day: int, minutes: int = 0) -> datetime:
        return T0 + timedelta(days=day, minutes=minutes)

    def streams(self, target: int) -> Iterator[list[Event]]:
        """Lists of events, one list per stream (in version order), until `target` events."""
        for street in STREETS:
            for c in COMMUNITIES[street]:
                yield [self._event("roster.community_registered", f"community-{street}.{c}", 1, street,
                                   {"community_id": c, "name": f"{c}社区", "kind": "community"}, self._at(0))]
        i = 0
        while self.n < target:
            street = STREETS[i % 3]
            community = COMMUNITIES[street][(i // 3) % 4]
            day = (i * 7) % 120
            yield from self._one_round(i, street, community, day)
            i += 1

    def _one_round(self, i: int, street: str, c: str, day: int) -> Iterator[list[Event]]:
        rng = self.rng
        at = self._at(day, i % 600)
        iso = at.isoformat()
        # a clue and its case workflow
        clue_id, case_id = f"clue{i:06d}", f"case{i:06d}"
        yield [self._event("clue.reported", f"clue-{clue_id}", 1, street, {
            "clue_id": clue_id, "community_id": c, "category": "illegal_finance", "source": "grid_patrol",
            "title": f"线索{i}", "description": "网格巡查发现保本高息宣传（虚构）", "subject_name": "", "credit_code": "",
            "address": "", "found_at": iso, "reported_by": f"wg-{c}-{i % 3}", "reporter_id": ""}, at)]
        case: list[Event] = []
        person = f"wg-{c}-{i % 3}"

        def step(type_: str, payload: dict[str, Any], minutes: int) -> None:
            case.append(self._event(type_, f"case-{case_id}", len(case) + 1, street, payload,
                                    at + timedelta(minutes=minutes)))

        def tr(minutes: int, **kw: Any) -> dict[str, Any]:
            return {"case_id": case_id, "at": (at + timedelta(minutes=minutes)).isoformat(), "by": person,
                    "reason": "", "rule": "", "deadline": "", "clock_no": 0, "last_minute": False, **kw}

        step("case.opened", {"case_id": case_id, "clue_id": clue_id, "community_id": c, "grid_id": f"g-{c}",
                             "level": 3, "assignee_person_id": person, "found_at": iso,
                             "register_deadline": (at + timedelta(hours=4)).isoformat(), "routing_note": ""}, 1)
        late = rng.random() < 0.2
        step("case.registered", tr(300 if late else 30, level=3, late=late,
                                   seconds_since_found=18000 if late else 1800), 2)
        roll = rng.random()
        if roll < 0.3:
            step("case.escalated", tr(60, automatic=roll < 0.1, from_level=3, to_level=2, grid_id="",
                                      assignee_person_id="", stabilization="", routing_note=""), 3)
            if roll < 0.15:
                step("case.bounced_back", tr(90, from_level=2, to_level=3, grid_id="", assignee_person_id=person,
                                             bounced_person_id=person), 4)
        if rng.random() < 0.2:
            step("case.deadline_extended", tr(100, extended_rule="rectification", extended_clock_no=1,
                                              extension_no=1 + (i % 2), hours=24, working_days=0,
                                              previous_deadline=iso), 5)
        if rng.random() < 0.3:
            step("case.disposal_decided", tr(120, disposal=rng.choice(["interview", "transfer_police"]),
                                             working_days=0, public_warning="", credit_code=""), 6)
        if rng.random() < 0.4:
            step("case.closed", tr(200, outcome="resolved", level=3), 7)
        if rng.random() < 0.1:
            step("sla.breached", {"subject_kind": "case", "subject_id": case_id, "rule": "registration",
                                  "clock_no": 1, "level": 3, "deadline": iso, "responsible_person_id": person,
                                  "grid_id": "", "consequence": "recorded"}, 8)
        yield case
        # obligations
        if i % 5 == 0:
            week = f"{street}:{c}:w{i}"
            kind = "obligation.missed" if i % 15 == 0 else "obligation.submitted"
            payload: dict[str, Any] = {"obligation_id": week, "kind": "weekly", "unit_id": c, "period": f"W{i}",
                                       "due_at": iso, "responsible_person_id": person}
            if kind == "obligation.submitted":
                payload.update(at=iso, by=person, on_time=i % 10 != 0, summary="")
            else:
                payload.update(grid_id="")
            yield [self._event(kind, f"obligation-{week}", 1, street, payload, at)]
        # an enterprise every few rounds: sighting, tag, plan, and its profile through intake
        if i % 7 == 0:
            code = f"91000000MA{i:08d}"
            stream = f"enterprise-{street}.{code}"
            e = [self._event("enterprise.sighted", stream, 1, street, {
                "credit_code": code, "name": f"某某企业{i}（虚构）", "address": "", "source": "clue", "clue_id": clue_id,
                "case_id": case_id, "score": 40, "suggested_tag": "yellow", "movement": "", "at": iso, "by": ""}, at)]
            e.append(self._event("enterprise.risk_tagged", stream, 2, street, {
                "credit_code": code, "tag": rng.choice(["red", "yellow", "green"]), "reason": "高息揽储", "at": iso,
                "by": person}, at))
            yield e
            yield [self._event("enterprise_profile.recorded", f"enterprise_profile-ep{i}", 1, street, {
                "record_id": f"ep{i}", "recorded_by": person, "community_id": c, "credit_code": code,
                "name": f"某某企业{i}（虚构）", "registered_capital_yuan": 1_000_000 + i, "tax_scale": "small",
                "business_scope": "投资咨询", "premises": "leased", "address": "示例路1号", "moved_in_on": "2026-01-05",
                "moved_out_on": None}, at)]
        yield from self._records(i, street, c, at)

    def _records(self, i: int, street: str, c: str, at: datetime) -> Iterator[list[Event]]:
        day = at.date().isoformat()
        base = {"recorded_by": f"wg-{c}", "community_id": c}
        kinds = [
            ("supervision.visit_recorded", "supervision", {
                "visited_on": day, "subject_name": f"商户{i}", "credit_code": "", "address": "", "sector": "零售",
                "inspector": "张网格01", "findings": "", "result": "normal" if i % 4 else "risk_found", "measures": ""}),
            ("publicity.activity_recorded", "publicity", {
                "held_on": day, "theme": "守住钱袋子", "form": "lecture", "venue": "", "audience_count": 20 + i % 50,
                "materials": [{"kind": "leaflet", "quantity": 100}] + ([{"kind": "contact_card", "quantity": 30}]
                                                                        if i % 2 else []), "organizer": ""}),
            ("ad_cleanup.recorded", "ad_cleanup", {
                "found_on": day, "medium": "leaflet", "content": "高息理财传单", "advertiser": "", "location": "",
                "quantity": 1 + i % 5, "status": "cleaned", "cleaned_on": day}),
            ("internet_finance.item_recorded", "internet_finance", {
                "platform_name": f"平台{i}", "credit_code": "", "business_kind": "p2p", "problem": "资金池",
                "measures": "", "status": "rectifying", "found_on": day, "deadline_on": None, "lead_unit": ""}),
            ("asset_disposal.progress_recorded", "asset_disposal", {
                "case_name": f"案件{i}", "case_ref": "", "assets": "房产一处", "seized_yuan": 1000 * i,
                "disposed_yuan": 0, "returned_yuan": 10 * i, "stage": "frozen", "progress": "", "reported_on": day}),
            ("petition.recorded", "petition", {
                "received_on": day, "form": "visit", "petitioner_count": 1 + i % 3, "case_name": "", "demand": "退款",
                "handling": "", "status": "handling", "key_case": i % 6 == 0, "key_petitioner": False,
                "stabilization": "", "responsible_person_id": ""}),
            ("emergency.incident_recorded", "emergency_incident", {
                "title": "聚集", "occurred_on": day, "kind": "gathering", "participants": 10, "response": "",
                "status": "resolved"}),
            ("emergency.plan_recorded", "emergency_plan", {
                "title": "处置预案", "scope": "本社区", "drafted_on": day, "drilled_on": None,
                "responsible_person_id": ""}),
            ("case_progress.recorded", "case_progress", {
                "case_name": f"刑事案件{i}", "case_ref": f"立{i}", "case_id": "", "filed_on": day, "lead_agency": "派出所",
                "amount_yuan": 100000 + i, "participants": 5, "stage": "investigating", "progress": "",
                "cross_province": i % 4 == 0, "provinces": "安徽、河南" if i % 4 == 0 else "", "reported_on": day}),
            ("ten_ones.item_recorded", "ten_ones", {"item": "organisation", "completed_on": day, "evidence": ""}),
        ]
        type_, kind, payload = kinds[i % len(kinds)]
        rid = f"r{i:06d}"
        versions = 2 if i % 3 == 0 else 1  # some records get a progress update
        events = []
        for v in range(1, versions + 1):
            events.append(self._event(type_, f"{kind}-{rid}", v, street, {**base, **payload, "record_id": rid},
                                      at + timedelta(hours=v)))
        yield events


def generate(target: int, seed: int = 5) -> list[list[Event]]:
    h = History(seed)
    return list(h.streams(target))


def topic_order(streams: list[list[Event]]) -> list[Event]:
    """The events as a consumer of three topics may see them: streams interleaved (each stream in
    version order), round robin across the streams in flight."""
    pending = [list(s) for s in streams]
    out: list[Event] = []
    window = 50
    while pending:
        head, pending = pending[:window], pending[window:]
        while head:
            for s in list(head):
                out.append(s.pop(0))
                if not s:
                    head.remove(s)
    return out


_ESCALATION_KINDS = ("case", "sla", "obligation", "campaign", "enterprise")


def topic_of(event: Event) -> str:
    """The producer's topic of an event type (enterprise_profile.* is recorded through intake)."""
    kind = event.type.split(".")[0]
    if kind == "roster":
        return "roster.events"
    return "escalation.events" if kind in _ESCALATION_KINDS else "intake.events"
