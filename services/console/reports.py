"""The pages of what offices hand in: the ten ledgers, the statistics tables and each community's
十个一 progress, rendered from the ledger service's answers (its listings and statistics, in the
person's scope). Exports are the ledger's own files; these pages only link to them."""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import urlencode

from markupsafe import Markup

from fangfei.auth.principal import Principal

from .backend import LEDGERS, STATISTICS, TEN_ONES, LedgerKind, Reply
from .layout import cn_count, cn_time, notice, page, table
from .names import NO_NAMES, Names
from .pages import _options, community_scoped

TOTAL = "合计"  # the ledger's label of a street's total row


def _cell(key: str, value: Any, names: Names = NO_NAMES) -> str:
    """A value as Chinese offices read it: places, people and units by name, dates in Chinese,
    counts with separators, 是/否."""
    if value is None or value == "":
        return "—"
    named = names.of_key(key, value)
    if named is not None:
        return named
    if key.endswith("_at") or key.endswith("deadline"):
        return cn_time(str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)) and not key.endswith("_id") and key not in ("level", "seq"):
        return cn_count(value) if float(value).is_integer() else f"{value:,.2f}"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def _query(filters: Mapping[str, str], **more: str) -> str:
    q = {k: v for k, v in filters.items() if v and k != "page"}
    q.update(more)
    return urlencode(q)


def filter_form(p: Principal, filters: Mapping[str, str], statuses: Mapping[str, str] | None = None,
                periods: bool = True, action: str = "", names: Names = NO_NAMES) -> Markup:
    """Street (district roles), community (all but community roles: theirs is the token's),
    status and period: each field labelled, one column on a phone."""
    fields = Markup("")
    if p.district_wide:
        fields += Markup('<div><label for="street_id">街道编号</label><input id="street_id" name="street_id"'
                         ' value="{}" required></div>').format(filters.get("street_id", ""))
    if not community_scoped(p) and names.communities:  # the street's communities, by name
        fields += Markup('<div><label for="community_id">社区</label><select id="community_id" name="community_id">'
                         '{}</select></div>').format(_options(names.communities, filters.get("community_id", ""), "全部社区"))
    elif not community_scoped(p):
        fields += Markup('<div><label for="community_id">社区编号</label><input id="community_id" name="community_id"'
                         ' value="{}"></div>').format(filters.get("community_id", ""))
    if statuses:
        fields += Markup('<div><label for="status">状态</label><select id="status" name="status">{}</select></div>').format(
            _options(statuses, filters.get("status", ""), "全部"))
    if periods:
        fields += Markup('<div><label for="period_from">起始日期</label><input id="period_from" name="period_from"'
                         ' type="date" value="{}"></div><div><label for="period_to">截止日期</label>'
                         '<input id="period_to" name="period_to" type="date" value="{}"></div>').format(
            filters.get("period_from", ""), filters.get("period_to", ""))
    if not fields:  # a community's own page: nothing to choose
        return Markup("")
    return Markup('<form method="get"{} class="card filters" aria-label="筛选">{}<div><button>筛选</button></div></form>'
                  ).format(Markup(' action="{}"').format(action) if action else "", fields)


def export_buttons(base: str, filters: Mapping[str, str], ident: str = "export") -> Markup:
    return Markup('<p class="exports"><a class="button" id="{i}-xlsx" href="{b}/export?{x}" download>导出 Excel（XLSX）</a>'
                  '<a class="button secondary" id="{i}-csv" href="{b}/export?{c}" download>导出 CSV</a></p>').format(
        i=ident, b=base, x=_query(filters, format="xlsx"), c=_query(filters, format="csv"))


def _listing(data: Mapping[str, Any], caption: str, names: Names = NO_NAMES) -> Markup:
    columns = data.get("columns", [])
    rows = [[_cell(col["key"], row.get(col["key"]), names) for col in columns] for row in data.get("rows", [])]
    return table([c["label"] for c in columns], rows, caption) if rows else notice("没有符合条件的记录。")


# -- ledgers ---------------------------------------------------------------------------------------
def ledger_index(p: Principal, names: Names = NO_NAMES) -> str:
    items = Markup("").join(Markup('<li><a href="/ledgers/{}">{}</a></li>').format(k, kind.title)
                            for k, kind in LEDGERS.items())
    more = Markup('<p><a href="/statistics">统计报表</a> · <a href="/ten-ones">“十个一”创建进度</a></p>')
    return page("工作台账", Markup('<ol class="card">{}</ol>').format(items) + more, p, "/ledgers", names=names)


def ledger_page(p: Principal, kind: LedgerKind, filters: Mapping[str, str], reply: Reply,
                names: Names = NO_NAMES) -> str:
    body = filter_form(p, filters, kind.statuses, kind.periods, names=names)
    if reply.status == 404:
        return page(kind.title, body + notice("该台账尚未开放（台账服务暂未提供此台账）。"), p, "/ledgers", names=names)
    if not reply.ok:
        return page(kind.title, body + notice(reply.message, error=True), p, "/ledgers", names=names)
    data = reply.body
    body += export_buttons(f"/ledgers/{kind.key}", filters)
    total, page_no, size = int(data.get("total", 0)), int(data.get("page", 1)), int(data.get("page_size", 50))
    body += Markup('<p id="ledger-total">共 {} 条，第 {} 页</p>').format(cn_count(total), cn_count(page_no))
    body += _listing(data, data.get("ledger") or kind.title, names)
    query, links = _query(filters), []
    if page_no > 1:
        links.append(Markup('<a href="?{}&page={}">上一页</a>').format(query, page_no - 1))
    if page_no * size < total:
        links.append(Markup('<a href="?{}&page={}">下一页</a>').format(query, page_no + 1))
    if links:
        body += Markup('<nav aria-label="分页"><p>{}</p></nav>').format(Markup(" · ").join(links))
    return page(data.get("ledger") or kind.title, body, p, "/ledgers", names=names)


# -- statistics ------------------------------------------------------------------------------------
def statistics_index(p: Principal, filters: Mapping[str, str], names: Names = NO_NAMES) -> str:
    """The statistics tables, each with its export buttons, for the scope chosen above them."""
    body = filter_form(p, filters, action="/statistics", names=names)
    if p.district_wide and not filters.get("street_id"):
        body += notice("请填写要统计的街道编号，再打开或导出报表。")
    items = Markup("").join(
        Markup('<li class="card" id="stat-{k}"><a href="{href}?{q}">{t}</a>{b}</li>').format(
            k=key, t=title, q=_query(filters), href="/ten-ones" if key == TEN_ONES else f"/statistics/{key}",
            b=export_buttons(f"/statistics/{key}", filters, f"export-{key}"))
        for key, title in STATISTICS.items())
    body += Markup('<ul class="plain">{}</ul>').format(items)
    return page("统计报表", body, p, "/statistics", names=names)


def statistics_page(p: Principal, key: str, filters: Mapping[str, str], reply: Reply,
                    names: Names = NO_NAMES) -> str:
    title = STATISTICS[key]
    body = filter_form(p, filters, names=names) + Markup('<p><a href="/statistics?{}">全部统计报表</a></p>').format(
        _query(filters))
    if not reply.ok:
        return page(title, body + notice(reply.message, error=True), p, "/statistics", names=names)
    data = reply.body
    body += export_buttons(f"/statistics/{key}", filters)
    body += Markup('<p id="stat-total">共 {} 行</p>').format(cn_count(int(data.get("total", 0))))
    body += _listing(data, data.get("table") or title, names)
    return page(data.get("table") or title, body, p, "/statistics", names=names)


# -- 十个一 ------------------------------------------------------------------------------------------
def _community_card(row: Mapping[str, Any], items: list[Mapping[str, str]], names: Names = NO_NAMES) -> Markup:
    cid, done, n = str(row.get("community_id", "")), int(row.get("done") or 0), len(items)
    name = row.get("community_name") or names.community(cid)
    checks = Markup("").join(
        Markup('<li class="{c}"><span aria-hidden="true">{m}</span> {l}<span class="hint">（{v}）</span></li>').format(
            c="done" if row.get(i["key"]) == "已完成" else "todo", m="✔" if row.get(i["key"]) == "已完成" else "○",
            l=i["label"], v=row.get(i["key"]) or "未完成")
        for i in items)
    certified = row.get("certified") == "达标"
    return Markup(
        '<section class="card" id="ten-ones-{id}" aria-labelledby="ten-ones-{id}-h">'
        '<h2 id="ten-ones-{id}-h">{name}</h2>'
        '<p>已完成 <strong>{done}</strong> / {n} 项 <span class="badge {cls}">{cert}</span></p>'
        '<label for="ten-ones-{id}-bar">完成进度</label>'
        '<progress id="ten-ones-{id}-bar" max="{n}" value="{done}">{done}/{n}</progress>'
        '<ul class="checklist">{checks}</ul></section>').format(
        id=cid, name=name, done=cn_count(done), n=n, cls="tag-green" if certified else "overdue",
        cert=row.get("certified") or "未达标", checks=checks)


def ten_ones_page(p: Principal, filters: Mapping[str, str], reply: Reply, names: Names = NO_NAMES) -> str:
    title = "“十个一”创建进度"
    body = filter_form(p, filters, periods=False, action="/ten-ones", names=names)
    body += Markup('<p class="hint">创建无非法集资社区须完成全部“十个一”；目标：全街道50%的社区达标。进度按已记录的台账累计。</p>')
    if not reply.ok:
        return page(title, body + notice(reply.message, error=True), p, "/ten-ones", names=names)
    data = reply.body
    items = [c for c in data.get("columns", []) if str(c.get("key", "")).startswith("item_")]
    rows = [r for r in data.get("rows", []) if r.get("community_id") != TOTAL]
    total = next((r for r in data.get("rows", []) if r.get("community_id") == TOTAL), None)
    body += export_buttons(f"/statistics/{TEN_ONES}", filters)
    if total is not None:
        body += Markup('<p class="card" id="ten-ones-summary">全街道：{} · <strong>{}</strong></p>').format(
            total.get("community_name", ""), total.get("certified", ""))
    body += Markup("").join(_community_card(r, items, names) for r in rows) if rows else notice("暂无社区的创建记录。")
    return page(title, body, p, "/ten-ones", names=names)
