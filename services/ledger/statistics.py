"""Statistics tables, counted from the ledgers when asked (never stored, so they can never drift
from the rows they count, and a rebuild of the ledgers rebuilds them too):

- seed 004's attachments: 专项行动工作情况统计表, 风险线索排查处置情况统计表,
  跨省（自治区、直辖市）非法集资案件（风险）办理情况登记统计表;
- weekly and monthly summaries per community and street (周报、月报);
- each community's 十个一 progress toward 无非法集资社区 (seed 001: 50% of communities);
- 量化考核 scorecards per grid person and per community, and the facts behind them.

Every table takes the listing's scope (street, community, period); a community-scoped caller gets
only its community's row and no street total (a total would reveal the other communities)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from marshmallow import fields

from fangfei.events.fields import ident
from fangfei.events.intake import TEN_ONES

from . import assessment, cases, communities, projections
from .record_ledgers import AD_CLEANUP, ASSET_DISPOSAL, EMERGENCY, INTERNET_FINANCE, PETITION, PUBLICITY, SUPERVISION
from .schemas import MISSING_STREET, LedgerPageQuery
from .tables import Column as C
from .tables import fetch, local_date, month_of, scope_filter, week_of

TOTAL = "合计"
CERTIFY_TARGET = 0.5  # seed 001: 50% of communities certified


class StatisticsQuery(LedgerPageQuery):
    street_id = ident(error_messages={"required": MISSING_STREET})
    community_id = ident(required=False)
    period_from = fields.Date(required=False)
    period_to = fields.Date(required=False)
    as_of = fields.AwareDateTime(required=False, format="iso")  # scorecards: facts recorded by then


@dataclass(frozen=True)
class StatTable:
    key: str
    title: str
    columns_spec: tuple[C, ...]
    compute: Callable[[Any, Mapping[str, Any]], list[dict[str, Any]]]


# -- helpers ---------------------------------------------------------------------------------------
def _docs(db: Any, collection: str, query: Mapping[str, Any], date_field: str | None = "period_date",
          extra: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    flt = {**scope_filter(query, date_field), **(extra or {})}
    return fetch(db[collection], flt)


def _clue_rows(db: Any, query: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Clue-verification rows in scope; their period is the local day the clue was found."""
    rows = _docs(db, projections.COLLECTION, query, None)
    lo, hi = str(query.get("period_from") or ""), str(query.get("period_to") or "")
    out = []
    for r in rows:
        day = local_date(r["found_at"]) if r.get("found_at") else ""
        if (lo and day < lo) or (hi and day > hi):
            continue
        r["period_date"] = day
        out.append(r)
    return out


def _community_list(db: Any, query: Mapping[str, Any], seen: Iterable[str]) -> list[str]:
    if query.get("community_id"):
        return [query["community_id"]]
    known = set(communities.names(db, query.get("street_id", "")))
    return sorted(known | {c for c in seen if c})


def _with_total(query: Mapping[str, Any], rows: list[dict[str, Any]], label_key: str,
                numeric: Iterable[str]) -> list[dict[str, Any]]:
    if query.get("community_id"):
        return rows
    total: dict[str, Any] = {label_key: TOTAL}
    for key in numeric:
        total[key] = sum(r.get(key) or 0 for r in rows)
    return rows + [total]


def _names(db: Any, query: Mapping[str, Any]) -> dict[str, str]:
    return communities.names(db, query.get("street_id", ""))


# -- 专项行动工作情况统计表 ---------------------------------------------------------------------------
CAMPAIGN_COUNTS = (
    C("supervision_visits", "日常监管检查（次）", 12), C("risks_found", "发现风险（次）", 12),
    C("clues", "上报线索（条）", 12), C("publicity_activities", "宣传活动（场）", 12),
    C("audience", "受众（人次）", 12), C("materials", "发放材料（份）", 12), C("ads_cleaned", "清理违法广告（条）", 14),
    C("internet_finance_items", "互联网金融整治（项）", 14), C("petitions", "信访（件）", 10),
    C("stability_listed", "重点稳控（件）", 12), C("incidents", "突发事件（起）", 12), C("cases", "案件（件）", 10),
    C("returned_yuan", "已清退金额（元）", 16),
)


def _campaign_counts(db: Any, query: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    by: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d in _docs(db, SUPERVISION.collection, query):
        by[d["community_id"]]["supervision_visits"] += 1
        by[d["community_id"]]["risks_found"] += d.get("result") != "normal"
    for d in _clue_rows(db, query):
        by[d.get("community_id") or ""]["clues"] += 1
    for d in _docs(db, PUBLICITY.collection, query):
        c = by[d["community_id"]]
        c["publicity_activities"] += 1
        c["audience"] += d.get("audience_count") or 0
        c["materials"] += d.get("material_total") or 0
    for d in _docs(db, AD_CLEANUP.collection, query):
        if d.get("status") != "found":
            by[d["community_id"]]["ads_cleaned"] += d.get("quantity") or 0
    for d in _docs(db, INTERNET_FINANCE.collection, query):
        by[d["community_id"]]["internet_finance_items"] += 1
    for d in _docs(db, PETITION.collection, query):
        by[d["community_id"]]["petitions"] += 1
        by[d["community_id"]]["stability_listed"] += bool(d.get("stability_listed"))
    for d in _docs(db, EMERGENCY.collection, query, extra={"entry_kind": "incident"}):
        by[d["community_id"]]["incidents"] += 1
    for d in _docs(db, cases.COLLECTION, query):
        by[d.get("community_id") or ""]["cases"] += 1
    for d in _docs(db, ASSET_DISPOSAL.collection, query):
        by[d["community_id"]]["returned_yuan"] += d.get("returned_yuan") or 0
    return by


def campaign_work(db: Any, query: Mapping[str, Any]) -> list[dict[str, Any]]:
    by = _campaign_counts(db, query)
    names = _names(db, query)
    rows = [{"community_id": c, "community_name": names.get(c, ""),
             **{col.key: by.get(c, {}).get(col.key, 0) for col in CAMPAIGN_COUNTS}}
            for c in _community_list(db, query, by)]
    return _with_total(query, rows, "community_id", [c.key for c in CAMPAIGN_COUNTS])


# -- 风险线索排查处置情况统计表 -------------------------------------------------------------------------
SCREENING_COUNTS = (
    C("clues", "线索总数", 10), C("routed", "已分派", 10), C("registered", "已登记", 10),
    C("registered_late", "逾期登记", 10), C("escalations", "上报上级（次）", 12), C("bounce_backs", "退回（次）", 10),
    C("in_disposal", "处置中", 10), C("closed", "已办结", 10), C("transferred_police", "移送公安", 10),
    C("breaches", "超时（次）", 10),
)


def clue_screening(db: Any, query: Mapping[str, Any]) -> list[dict[str, Any]]:
    by: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d in _clue_rows(db, query):
        c = by[d.get("community_id") or ""]
        c["clues"] += 1
        c["routed"] += bool(d.get("case_id"))
    for d in _docs(db, cases.COLLECTION, query, extra={"clue_id": {"$exists": True}}):
        c = by[d.get("community_id") or ""]
        c["registered"] += bool(d.get("registered_at"))
        c["registered_late"] += bool(d.get("registered_late"))
        c["escalations"] += d.get("escalations") or 0
        c["bounce_backs"] += d.get("bounce_backs") or 0
        c["in_disposal"] += d.get("case_status") == "disposal"
        c["closed"] += d.get("case_status") == "closed"
        c["transferred_police"] += d.get("disposal") == "transfer_police"
        c["breaches"] += d.get("breaches") or 0
    names = _names(db, query)
    rows = [{"community_id": c, "community_name": names.get(c, ""),
             **{col.key: by.get(c, {}).get(col.key, 0) for col in SCREENING_COUNTS}}
            for c in _community_list(db, query, by)]
    return _with_total(query, rows, "community_id", [c.key for c in SCREENING_COUNTS])


# -- 跨省非法集资案件（风险）办理情况登记统计表 ---------------------------------------------------------------
def cross_province(db: Any, query: Mapping[str, Any]) -> list[dict[str, Any]]:
    docs = sorted(_docs(db, cases.COLLECTION, query, extra={"cross_province": True}),
                  key=lambda d: (d.get("filed_on") or "", d["_id"]))
    return [{"seq": i, "case_id": d["_id"], "street_id": d.get("street_id"), "community_id": d.get("community_id"),
             "case_name": d.get("case_name"), "case_ref": d.get("case_ref"), "filed_on": d.get("filed_on"),
             "provinces": d.get("provinces"), "lead_agency": d.get("lead_agency"),
             "amount_yuan": d.get("amount_yuan"), "participants": d.get("participants"),
             "stage_label": cases.CASE_STAGES.get(d.get("stage") or "", ""), "progress": d.get("progress")}
            for i, d in enumerate(docs, 1)]


# -- 周报、月报 -------------------------------------------------------------------------------------
SUMMARY_COUNTS = (
    C("supervision_visits", "日常监管（次）", 12), C("clues", "线索（条）", 10), C("publicity_activities", "宣传活动（场）", 12),
    C("audience", "受众（人次）", 12), C("ads", "违法广告（条）", 12), C("internet_finance_items", "互金整治（项）", 12),
    C("petitions", "信访（件）", 10), C("incidents", "突发事件（起）", 12), C("cases", "案件（件）", 10),
    C("asset_reports", "资产处置进展（条）", 14),
)


def _summary(period_of: Callable[[str], str]) -> Callable[[Any, Mapping[str, Any]], list[dict[str, Any]]]:
    def compute(db: Any, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        by: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))

        def add(docs: Iterable[dict[str, Any]], key: str, amount: Callable[[dict[str, Any]], int] = lambda d: 1) -> None:
            for d in docs:
                if d.get("period_date"):
                    by[(period_of(d["period_date"]), d.get("community_id") or "")][key] += amount(d)

        add(_docs(db, SUPERVISION.collection, query), "supervision_visits")
        add(_clue_rows(db, query), "clues")
        pub = _docs(db, PUBLICITY.collection, query)
        add(pub, "publicity_activities")
        add(pub, "audience", lambda d: d.get("audience_count") or 0)
        add(_docs(db, AD_CLEANUP.collection, query), "ads")
        add(_docs(db, INTERNET_FINANCE.collection, query), "internet_finance_items")
        add(_docs(db, PETITION.collection, query), "petitions")
        add(_docs(db, EMERGENCY.collection, query, extra={"entry_kind": "incident"}), "incidents")
        add(_docs(db, cases.COLLECTION, query), "cases")
        add(_docs(db, ASSET_DISPOSAL.collection, query), "asset_reports")
        names = _names(db, query)
        keys = [c.key for c in SUMMARY_COUNTS]
        rows: list[dict[str, Any]] = []
        for period in sorted({p for p, _ in by}, reverse=True):
            block = [{"period": period, "community_id": c, "community_name": names.get(c, ""),
                      **{k: by[(period, c)].get(k, 0) for k in keys}}
                     for c in sorted(c for p, c in by if p == period)]
            rows.extend(block)
            if not query.get("community_id"):
                rows.append({"period": period, "community_id": TOTAL, "community_name": "",
                             **{k: sum(r[k] for r in block) for k in keys}})
        return rows

    return compute


# -- 十个一 -------------------------------------------------------------------------------------------
def _ten_ones_done(db: Any, query: Mapping[str, Any]) -> dict[str, set[str]]:
    """Items done per community: recorded explicitly (ten_ones records), or shown by the ledgers
    themselves: a publicity activity (一系列宣传教育), a contact card or open letter handed out, and
    rows in at least three of the record ledgers (一系列登记台账). Period filters do not apply:
    progress is cumulative."""
    scope = {k: v for k, v in query.items() if k in ("street_id", "community_id")}
    done: dict[str, set[str]] = defaultdict(set)
    for d in _docs(db, "ledger_ten_ones", scope, None):
        done[d["community_id"]].add(d["item"])
    ledgers_used: dict[str, set[str]] = defaultdict(set)
    for ledger in (SUPERVISION, INTERNET_FINANCE, PUBLICITY, AD_CLEANUP, ASSET_DISPOSAL, PETITION, EMERGENCY):
        for d in _docs(db, ledger.collection, scope, None):
            ledgers_used[d["community_id"]].add(ledger.key)
            if ledger is PUBLICITY:
                done[d["community_id"]].add("publicity_series")
                for m in d.get("materials") or []:
                    if m["kind"] in ("contact_card", "open_letter"):
                        done[d["community_id"]].add(m["kind"])
    for community, used in ledgers_used.items():
        if len(used) >= 3:
            done[community].add("ledgers")
    return done


def ten_ones(db: Any, query: Mapping[str, Any]) -> list[dict[str, Any]]:
    done = _ten_ones_done(db, query)
    names = _names(db, query)
    rows = []
    for c in _community_list(db, query, done):
        items = done.get(c, set())
        row: dict[str, Any] = {"community_id": c, "community_name": names.get(c, "")}
        row.update({f"item_{k}": "已完成" if k in items else "未完成" for k in TEN_ONES})
        row["done"] = len(items & set(TEN_ONES))
        row["certified"] = "达标" if row["done"] == len(TEN_ONES) else "未达标"
        rows.append(row)
    if not query.get("community_id"):
        certified = sum(r["certified"] == "达标" for r in rows)
        share = certified / len(rows) if rows else 0.0
        rows.append({"community_id": TOTAL, "community_name": f"达标 {certified}/{len(rows)}（{share:.0%}）",
                     "done": certified, "certified": "已达目标" if share >= CERTIFY_TARGET else "未达目标（50%）"})
    return rows


# -- 量化考核 -----------------------------------------------------------------------------------------
METRIC_COLUMNS = tuple(C(k, v, 10) for k, v in assessment.METRICS.items())


def _facts(db: Any, query: Mapping[str, Any]) -> list[dict[str, Any]]:
    scope = {k: v for k, v in query.items() if k in ("street_id", "period_from", "period_to")}
    extra: dict[str, Any] = {}
    if query.get("as_of"):
        from fangfei.clock import to_iso
        extra["recorded_at"] = {"$lte": to_iso(query["as_of"])}
    docs = _docs(db, assessment.COLLECTION, scope, "period_date", extra)
    if any(d.get("case_id") and not d.get("community_id") for d in docs):
        # the cases of the facts' street (a case's facts carry its street): one scan, not an $in of
        # thousands of ids, which the embedded store tests against every row one by one
        where = {d["_id"]: d.get("community_id") or "" for d in
                 fetch(db[cases.COLLECTION], {"street_id": query["street_id"]} if query.get("street_id") else {},
                       exclude=("_applied",))}
        for d in docs:
            if d.get("case_id") and not d.get("community_id"):
                d["community_id"] = where.get(d["case_id"], "")
    if query.get("community_id"):
        docs = [d for d in docs if d.get("community_id") == query["community_id"]]
    return sorted(docs, key=lambda d: (d["at"], d["_id"]))


def _scorecard(group: str) -> Callable[[Any, Mapping[str, Any]], list[dict[str, Any]]]:
    def compute(db: Any, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        by: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for d in _facts(db, query):
            by[d.get(group) or ""][d["metric"]] += 1
        names = _names(db, query) if group == "community_id" else {}
        rows = [{group: k, "community_name": names.get(k, ""), **{m: by[k].get(m, 0) for m in assessment.METRICS}}
                for k in sorted(by)]
        if group == "community_id":
            return _with_total(query, rows, group, list(assessment.METRICS))
        return rows

    return compute


def assessment_facts(db: Any, query: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"event_id": d["event_id"], "event_type": d["event_type"],
             "metric_label": assessment.METRICS.get(d["metric"], d["metric"]), "person_id": d.get("person_id"),
             "community_id": d.get("community_id"), "case_id": d.get("case_id"), "at": d["at"],
             "recorded_at": d["recorded_at"], "detail": d.get("detail")} for d in _facts(db, query)]


COMMUNITY_COLS = (C("community_id", "社区", 12), C("community_name", "社区名称", 14))

TABLES: dict[str, StatTable] = {t.key: t for t in (
    StatTable("campaign-work", "打击非法集资专项行动工作情况统计表", COMMUNITY_COLS + CAMPAIGN_COUNTS, campaign_work),
    StatTable("clue-screening", "风险线索排查处置情况统计表", COMMUNITY_COLS + SCREENING_COUNTS, clue_screening),
    StatTable("cross-province", "跨省（自治区、直辖市）非法集资案件（风险）办理情况登记统计表", (
        C("seq", "序号", 6), C("case_id", "案件编号", 34), C("street_id", "街道", 12), C("community_id", "社区", 12),
        C("case_name", "案件名称", 28), C("case_ref", "立案编号", 16), C("filed_on", "立案日期", 12),
        C("provinces", "涉及省份", 16), C("lead_agency", "承办单位", 16), C("amount_yuan", "涉案金额（元）", 16),
        C("participants", "集资参与人数", 12), C("stage_label", "办理阶段", 10), C("progress", "进展情况", 40),
    ), cross_province),
    StatTable("weekly-summary", "防非工作周报（按社区、街道汇总）", (C("period", "周次", 10),) + COMMUNITY_COLS + SUMMARY_COUNTS,
              _summary(week_of)),
    StatTable("monthly-summary", "防非工作月报（按社区、街道汇总）", (C("period", "月份", 10),) + COMMUNITY_COLS + SUMMARY_COUNTS,
              _summary(month_of)),
    StatTable("ten-ones", "无非法集资社区“十个一”创建进度", COMMUNITY_COLS + tuple(
        C(f"item_{k}", v, 14) for k, v in TEN_ONES.items()) + (C("done", "已完成项数", 10), C("certified", "是否达标", 12)),
        ten_ones),
    StatTable("scorecard-persons", "量化考核计分表（网格人员）", (C("person_id", "人员", 20),) + METRIC_COLUMNS,
              _scorecard("person_id")),
    StatTable("scorecard-communities", "量化考核计分表（社区）", COMMUNITY_COLS + METRIC_COLUMNS,
              _scorecard("community_id")),
    StatTable("assessment-facts", "量化考核明细（每项计分对应的事件）", (
        C("event_id", "事件编号", 38), C("event_type", "事件类型", 22), C("metric_label", "考核项", 14),
        C("person_id", "人员", 20), C("community_id", "社区", 12), C("case_id", "案件编号", 34),
        C("at", "发生时间", 24), C("recorded_at", "记录时间", 24), C("detail", "说明", 20),
    ), assessment_facts),
)}
