"""The console's pages, rendered from what the services answered (see backend.py).

Each function takes the signed-in principal and the services' replies and returns HTML; none of
them calls a service or decides who may see what (the services did that)."""

from __future__ import annotations

import re
from typing import Any, Mapping

from markupsafe import Markup

from fangfei.auth.principal import Principal
from fangfei.auth.roles import COMMUNITY_OFFICE, GRID_STAFF
from fangfei.events.escalation import DISPOSALS, OUTCOMES
from fangfei import vocab
from fangfei.vocab import (CASE_LEVELS, CASE_OUTCOMES, CLUE_CATEGORIES, CLUE_SOURCES, INDUSTRY_SECTORS,
                          WORKFLOW_STATUSES)

from .backend import Reply
from .layout import cn_count, cn_duration, cn_time, notice, now_local_input, page, table
from .names import NO_NAMES, Names

# Labels of escalation's codes that its case listing carries without a label (fangfei.vocab).
CASE_STATUS = WORKFLOW_STATUSES
LEVELS = CASE_LEVELS
DISPOSAL_LABELS = vocab.DISPOSALS
OUTCOME_LABELS = CASE_OUTCOMES
TAGS = {"red": ("红", "tag-red"), "yellow": ("黄", "tag-yellow"), "green": ("绿", "tag-green")}
# Case actions the console offers as forms: escalation's action → its URL segment.
ACTION_SEGMENTS = {"register": "register", "escalate": "escalate", "bounce_back": "bounce-back",
                   "decide_disposal": "disposal", "close": "close"}
SEGMENT_LABELS = {"register": "登记", "escalate": "稳控并上报", "bounce-back": "退回", "disposal": "作出处置决定",
                  "close": "办结"}


def community_scoped(p: Principal) -> bool:
    return p.role in (GRID_STAFF, COMMUNITY_OFFICE)


def street_form(action: str, street: str, extra: Markup | str = "") -> Markup:
    """For district-wide roles, who have no street of their own: which street to look at."""
    return Markup('<form method="get" action="{}" class="card filters"><div><label for="street_id">街道编号</label>'
                  '<input id="street_id" name="street_id" value="{}" required></div>{}'
                  '<div><button>查看</button></div></form>').format(action, street, extra)


def _tag(tag: str) -> Markup:
    label, cls = TAGS.get(tag, ("", ""))
    return Markup('<span class="badge {}">{}</span>').format(cls, label) if label else Markup("—")


# -- home ------------------------------------------------------------------------------------------
def home(p: Principal, street: str, reply: Reply | None, names: Names = NO_NAMES) -> str:
    parts: list[Markup] = []
    if p.district_wide:
        parts.append(street_form("/", street))
    if reply is None:
        parts.append(notice("请填写要查看的街道编号。"))
        return page("待办与超期", Markup("").join(parts), p, "/", names=names)
    if not reply.ok:
        parts.append(notice(reply.message, error=True))
        return page("待办与超期", Markup("").join(parts), p, "/", names=names)
    rows = list(reply.body.get("cases", []))
    if community_scoped(p):
        rows = [r for r in rows if r.get("community_id") == p.community]
    rows.sort(key=lambda r: (not r.get("overdue"), r.get("deadline") or "9999", r.get("case_id", "")))
    overdue = sum(1 for r in rows if r.get("overdue"))
    mine = sum(1 for r in rows if r.get("assignee_person_id") == p.subject)
    parts.append(Markup('<p class="card" id="summary">在办案件 <strong>{}</strong> 件，其中超期 <strong>{}</strong> 件，'
                        '由我负责 <strong>{}</strong> 件。</p>').format(cn_count(len(rows)), cn_count(overdue), cn_count(mine)))
    body_rows = []
    for r in rows:
        flags = Markup("")
        if r.get("overdue"):
            flags += Markup('<span class="badge overdue">已超期</span> ')
        if r.get("assignee_person_id") == p.subject:
            flags += Markup('<span class="badge mine">我负责</span>')
        body_rows.append([
            Markup('<a href="/cases/{}">{}</a>').format(r.get("case_id", ""), r.get("case_id", "")),
            r.get("community_name") or names.community(r.get("community_id")),
            CASE_STATUS.get(r.get("status", ""), r.get("status_label") or "（未知状态）"),
            LEVELS.get(r.get("level", 0), ""),
            _tag(r.get("risk_tag", "")),
            cn_time(r.get("found_at")),
            cn_time(r.get("deadline")),
            flags or "—",
        ])
    if body_rows:
        parts.append(table(["案件编号", "社区", "状态", "当前层级", "风险", "发现时间", "办理时限", "提示"], body_rows,
                           f"{names.street(street)}在办案件"))
    else:
        parts.append(notice("当前没有在办案件。"))
    return page("待办与超期", Markup("").join(parts), p, "/", names=names)


# -- clue report -----------------------------------------------------------------------------------
def _options(choices: Mapping[str, str], selected: str = "", blank: str = "") -> Markup:
    opts = [Markup('<option value="">{}</option>').format(blank)] if blank else []
    opts += [Markup('<option value="{}"{}>{}</option>').format(k, Markup(" selected") if k == selected else "", v)
             for k, v in choices.items()]
    return Markup("").join(opts)


RISK_SCRIPT = r"""
(function(){
  var form=document.getElementById('clue-form'), out=document.getElementById('risk'), timer=null;
  var fields=['subject_name','title','description','address','credit_code'];
  function show(r){
    var tag={red:'tag-red',yellow:'tag-yellow',green:'tag-green'}[r.suggested_tag]||'';
    out.textContent='';
    var head=document.createElement('p');
    var b=document.createElement('span'); b.className='badge '+tag; b.textContent=r.suggested_tag_label||'';
    head.appendChild(document.createTextNode('风险提示：建议 ')); head.appendChild(b);
    head.appendChild(document.createTextNode(' 牌，风险分 '+r.score+' 分'));
    out.appendChild(head);
    var ul=document.createElement('ul');
    (r.hits||[]).forEach(function(x){var li=document.createElement('li');
      li.textContent=(x.label||x.indicator||'')+(x.matched?('（“'+x.matched+'”）'):''); ul.appendChild(li);});
    if(!(r.hits||[]).length){var li=document.createElement('li'); li.textContent='暂未发现风险指标'; ul.appendChild(li);}
    out.appendChild(ul);
  }
  function preview(){
    var body={}; fields.forEach(function(f){var el=form.elements[f]; if(el&&el.value.trim()) body[f]=el.value.trim();});
    if(!Object.keys(body).length){out.textContent='输入内容后，这里显示风险指标。';return;}
    fetch('/api/risk-preview',{method:'POST',credentials:'same-origin',headers:{'Content-Type':'application/json'},
      body:JSON.stringify(body)}).then(function(r){return r.json().then(function(j){return [r.ok,j];});})
      .then(function(x){ if(x[0]) show(x[1]); else out.textContent=(x[1].error&&x[1].error.message)||'风险提示暂不可用'; })
      .catch(function(){out.textContent='风险提示暂不可用';});
  }
  fields.forEach(function(f){var el=form.elements[f]; if(el) el.addEventListener('input',function(){
    clearTimeout(timer); timer=setTimeout(preview,300);});});
})();
"""


def _community_field(p: Principal, value: str, names: Names) -> Markup:
    """The community of a clue, by name: a community role's own (fixed), else a choice among the
    street's communities (a typed code only when the roster could not be read)."""
    if community_scoped(p):
        return Markup('<label for="community_id">所属社区</label><input id="community_id" value="{}" readonly>'
                      '<input type="hidden" name="community_id" value="{}">').format(
            names.community(p.community), p.community)
    if names.communities:
        return Markup('<label for="community_id">所属社区</label><select id="community_id" name="community_id" required>'
                      '{}</select>').format(_options(names.communities, value, "请选择"))
    return Markup('<label for="community_id">所属社区编号</label><input id="community_id" name="community_id"'
                  ' value="{}" required>').format(value)


def clue_form(p: Principal, key: str, values: Mapping[str, str] | None = None, error: str = "",
              field_errors: Mapping[str, Any] | None = None, names: Names = NO_NAMES) -> str:
    v = dict(values or {})
    errs = field_errors or {}

    def err(name: str) -> Markup:
        msgs = errs.get(name)
        if not msgs:
            return Markup("")
        text = "；".join(str(m) for m in (msgs if isinstance(msgs, list) else [msgs]))
        return Markup('<div class="hint" style="color:#8b1a1a" id="{}-error">{}</div>').format(name, text)

    body = Markup("")
    if error:
        body += notice(error, error=True)
    body += Markup(
        '<form id="clue-form" method="post" action="/clues" class="card" novalidate>'
        '<input type="hidden" name="idempotency_key" value="{key}">'
        '{community}{e_community}'
        '<label for="category">线索类别</label><select id="category" name="category" required>{categories}</select>{e_category}'
        '<label for="source">线索来源</label><select id="source" name="source" required>{sources}</select>{e_source}'
        '<label for="title">线索标题</label><input id="title" name="title" maxlength="100" required value="{title}">{e_title}'
        '<label for="description">情况描述</label><textarea id="description" name="description" maxlength="4000" required>'
        '{description}</textarea>{e_description}'
        '<label for="subject_name">涉及主体（企业或个人名称）</label><input id="subject_name" name="subject_name" maxlength="200"'
        ' value="{subject}">{e_subject}'
        '<label for="credit_code">统一社会信用代码</label><input id="credit_code" name="credit_code" maxlength="18"'
        ' autocapitalize="characters" value="{credit}">{e_credit}'
        '<label for="address">地址</label><input id="address" name="address" maxlength="300" value="{address}">{e_address}'
        '<label for="found_at">发现时间</label><input id="found_at" name="found_at" type="datetime-local" required'
        ' value="{found}">{e_found}'
        '<section aria-live="polite" id="risk" class="card" style="margin-top:1rem">输入内容后，这里显示风险指标。</section>'
        '<button type="submit">提交上报</button></form>'
    ).format(
        key=key, community=_community_field(p, v.get("community_id", ""), names),
        categories=_options(CLUE_CATEGORIES, v.get("category", ""), "请选择"),
        sources=_options(CLUE_SOURCES, v.get("source", "grid_patrol")),
        title=v.get("title", ""), description=v.get("description", ""), subject=v.get("subject_name", ""),
        credit=v.get("credit_code", ""), address=v.get("address", ""), found=v.get("found_at") or now_local_input(),
        e_community=err("community_id"), e_category=err("category"), e_source=err("source"), e_title=err("title"),
        e_description=err("description"), e_subject=err("subject_name"), e_credit=err("credit_code"),
        e_address=err("address"), e_found=err("found_at"),
    )
    return page("上报线索", body, p, "/clues/new", scripts=RISK_SCRIPT, names=names)


def clue_sent(p: Principal, clue_id: str, created: bool) -> str:
    body = notice("线索已上报，编号 " + clue_id + ("。" if created else "（此前已提交过，未重复上报）。"))
    body += Markup('<p>系统将按网格自动分派给三级网格长，并开始计算4小时登记时限。</p>'
                   '<p><a href="/cases/{}">查看案件办理情况</a> · <a href="/clues/new">继续上报</a></p>').format(clue_id)
    return page("上报成功", body, p, "/clues/new")


# -- case ------------------------------------------------------------------------------------------
def _action_form(case_id: str, segment: str) -> Markup:
    fields = Markup("")
    reason_required = segment != "register"
    if segment == "escalate":
        fields += Markup('<label for="stabilization-{s}">稳控措施（三级网格上报时必填）</label>'
                         '<textarea id="stabilization-{s}" name="stabilization" maxlength="500"></textarea>').format(s=segment)
    if segment == "disposal":
        fields += Markup('<label for="disposal-kind">处置方式</label><select id="disposal-kind" name="disposal" required>{}</select>'
                         '<label for="working-days">整改期限（工作日，责令限期整改时填写）</label>'
                         '<input id="working-days" name="working_days" type="number" min="1" max="90" inputmode="numeric">'
                         '<label for="public-warning">预警提示（会商研判时填写）</label>'
                         '<textarea id="public-warning" name="public_warning" maxlength="1000"></textarea>').format(
            _options({k: DISPOSAL_LABELS.get(k, k) for k in DISPOSALS}))
    if segment == "close":
        fields += Markup('<label for="outcome">办结结果</label><select id="outcome" name="outcome" required>{}</select>').format(
            _options({k: OUTCOME_LABELS.get(k, k) for k in OUTCOMES}))
    reason = Markup('<label for="reason-{s}">{l}</label><textarea id="reason-{s}" name="reason" maxlength="500"{r}>'
                    '</textarea>').format(s=segment, l="理由" if reason_required else "备注（可不填）",
                                          r=Markup(" required") if reason_required else "")
    return Markup('<form method="post" action="/cases/{id}/{s}" class="card" id="action-{s}"><h3 style="margin:0">{l}</h3>'
                  '{fields}{reason}<button type="submit">{l}</button></form>').format(
        id=case_id, s=segment, l=SEGMENT_LABELS[segment], fields=fields, reason=reason)


_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})")


def _local_instants(text: str) -> str:
    """An instant written into a text (期限 2026-03-14T06:00:00.000Z) as Beijing time, in Chinese."""
    return _INSTANT.sub(lambda m: cn_time(m.group(0)), str(text))


def case_page(p: Principal, case: Mapping[str, Any], clue: Mapping[str, Any], done: str = "", error: str = "",
              names: Names = NO_NAMES) -> str:
    c = clue.get("clue", {})
    body = Markup("")
    if done:
        body += notice(f"已完成：{SEGMENT_LABELS.get(done, done)}")
    if error:
        body += notice(error, error=True)
    clock = case.get("clock") or {}
    deadline = Markup("—")
    if clock:
        state = (Markup('<span class="badge overdue">已超期</span>') if clock.get("overdue") else
                 Markup("剩余 {}").format(cn_duration(clock.get("remaining_seconds"))))
        if clock.get("paused"):
            state = Markup('<span class="badge">已暂停计时</span>')
        deadline = Markup("{}（{}）{}").format(cn_time(clock.get("deadline")), clock.get("rule_label", ""), state)
    risk = case.get("risk") or {}
    body += Markup(
        '<section class="card" aria-labelledby="facts-h"><h2 id="facts-h">案件概况</h2><dl class="facts">'
        '<dt>案件编号</dt><dd id="case-id">{id}</dd><dt>线索标题</dt><dd>{title}</dd>'
        '<dt>情况描述</dt><dd>{desc}</dd><dt>涉及主体</dt><dd>{subject}</dd><dt>地址</dt><dd>{address}</dd>'
        '<dt>社区</dt><dd>{community}</dd><dt>状态</dt><dd id="case-status">{status}</dd>'
        '<dt>当前层级</dt><dd>{level}</dd><dt>责任人</dt><dd>{assignee}</dd>'
        '<dt>发现时间</dt><dd>{found}</dd><dt>办理时限</dt><dd>{deadline}</dd>'
        '<dt>风险</dt><dd>{tag} 风险分 {score} 分</dd></dl></section>'
    ).format(id=case.get("case_id", ""), title=c.get("title", ""), desc=c.get("description", ""),
             subject=c.get("subject_name") or "—", address=c.get("address") or "—",
             community=case.get("community_name") or names.community(case.get("community_id")),
             status=case.get("status_label", ""), level=case.get("level_label", ""),
             assignee=case.get("assignee_name") or names.person(case.get("assignee_person_id")),
             found=cn_time(case.get("found_at")), deadline=deadline, tag=_tag(risk.get("suggested_tag", "")),
             score=cn_count(risk.get("score", 0)))
    steps = Markup("").join(
        Markup("<li><strong>{}</strong> · {}{}{}</li>").format(
            e.get("action_label") or e.get("type", ""), cn_time(e.get("at")),
            Markup(" · {}").format(names.person(e["by"])) if e.get("by") else "",
            Markup("<br><span class=\"hint\">{}</span>").format(_local_instants(e["reason"])) if e.get("reason") else "")
        for e in case.get("history", []))
    body += Markup('<section class="card" aria-labelledby="tl-h"><h2 id="tl-h">办理过程</h2><ol class="timeline" id="timeline">'
                   '{}</ol></section>').format(steps or Markup("<li>暂无</li>"))
    allowed = [a.get("action") for a in case.get("allowed_actions", [])]
    forms = [_action_form(case.get("case_id", ""), ACTION_SEGMENTS[a]) for a in allowed if a in ACTION_SEGMENTS]
    body += Markup('<section aria-labelledby="act-h"><h2 id="act-h">可执行的操作</h2>{}</section>').format(
        Markup("").join(forms) if forms else notice("当前没有可在此执行的操作。"))
    return page(f"案件 {case.get('case_id', '')}", body, p, names=names)


# -- roster ----------------------------------------------------------------------------------------
def _person(x: Mapping[str, Any] | None) -> Markup:
    if not x:
        return Markup('<span class="badge overdue">空缺</span>')
    return Markup("{}").format(x.get("name") or NO_NAMES.person(x.get("person_id") or "?"))


def _named(x: Mapping[str, Any] | None) -> str:
    """A person's name from the roster, or the placeholder (never the person id)."""
    return str((x or {}).get("name") or NO_NAMES.person((x or {}).get("person_id") or "?"))


def _grid(node: Mapping[str, Any]) -> Markup:
    kids = Markup("").join(_grid(k) for k in node.get("children", []))
    staff = "、".join(_named(s) + (f"（{s.get('role_label')}）" if s.get("role_label") else "")
                     for s in node.get("staff", []))
    return Markup("<li>{} {} · 网格长：{}{}{}</li>").format(
        node.get("level_label", ""), node.get("name") or NO_NAMES.grid("?"), _person(node.get("chief")),
        Markup('<br><span class="hint">{}</span>').format(staff) if staff else "",
        Markup('<ul>{}</ul>').format(kids) if kids else "")


def roster_page(p: Principal, street: str, tree: Reply | None, who: Reply | None, query: Mapping[str, str],
                names: Names = NO_NAMES) -> str:
    body = Markup("")
    if p.district_wide:
        body += street_form("/roster", street)
    if tree is None:
        return page("网格名册", body + notice("请填写要查看的街道编号。"), p, "/roster", names=names)
    if not tree.ok:
        return page("网格名册", body + notice(tree.message, error=True), p, "/roster", names=names)
    t = tree.body
    communities = {c["community_id"]: c["name"] for c in t.get("communities", [])}
    body += Markup(
        '<form method="get" action="/roster" class="card filters" aria-labelledby="who-h"><h2 id="who-h" style="grid-column:1/-1;margin:0">谁负责</h2>'
        '<input type="hidden" name="street_id" value="{street}">'
        '<div><label for="who-community">社区</label><select id="who-community" name="community_id">{c}</select></div>'
        '<div><label for="who-sector">行业</label><select id="who-sector" name="sector">{s}</select></div>'
        '<div><button>查询</button></div></form>').format(
        street=street, c=_options(communities, query.get("community_id", ""), "（不按社区）"),
        s=_options(INDUSTRY_SECTORS, query.get("sector", ""), "（不按行业）"))
    if who is not None:
        if not who.ok:
            body += notice(who.message, error=True)
        else:
            lines = []
            g = who.body.get("grid")
            if g:
                lines.append(Markup("<li>属地：{} {} · {}{}</li>").format(
                    g.get("level_label", ""), g.get("grid_name", ""), g.get("person_name") or "空缺",
                    Markup("（{}）").format(g["note"]) if g.get("note") else ""))
            s = who.body.get("sector")
            if s:
                units = "、".join(u.get("name", "") for u in s.get("units", []))
                people = "、".join(_named(x) for x in s.get("people", []))
                lines.append(Markup("<li>行业「{}」：{}{}{}</li>").format(
                    s.get("sector_label", ""), units or s.get("target_label", ""),
                    Markup(" · 联系人：{}").format(people) if people else "",
                    Markup("（{}）").format(s["note"]) if s.get("note") else ""))
            body += Markup('<section class="card" id="who-result" aria-live="polite"><ul>{}</ul></section>').format(
                Markup("").join(lines))
    body += Markup('<section class="card" aria-labelledby="tree-h"><h2 id="tree-h">{} 网格体系</h2><ul class="tree">{}</ul>'
                   '</section>').format(t.get("name") or names.street(street),
                                        Markup("").join(_grid(g) for g in t.get("grids", [])))
    units = [[u.get("name", ""), u.get("kind_label", ""), "、".join(u.get("sector_labels", [])) or "—",
              "、".join(_named(c) for c in u.get("contacts", []) if c) or "—"] for u in t.get("member_units", [])]
    if units:
        body += Markup('<h2>成员单位</h2>') + table(["单位", "类型", "负责行业", "联系人"], units)
    group = t.get("leading_group") or {}
    members = [[m.get("position_label", ""), _named(m), m.get("title", "") or "—"] for m in group.get("members", [])]
    if members:
        body += Markup('<h2>{}</h2>').format(group.get("name") or "领导小组") + table(["职务", "姓名", "单位及职务"], members)
    return page("网格名册", body, p, "/roster", names=names)


def login_page(error: str = "", next_url: str = "/") -> str:
    body = Markup("")
    if error:
        body += notice(error, error=True)
    body += Markup(
        '<form method="post" action="/login" class="card"><input type="hidden" name="next" value="{}">'
        '<label for="token">访问令牌</label><textarea id="token" name="token" required autocomplete="off"'
        ' spellcheck="false" aria-describedby="token-hint"></textarea>'
        '<p class="hint" id="token-hint">请粘贴管理员用 <code>fangfei token issue</code> 签发的令牌。令牌只保存在本浏览器的安全 Cookie 中。</p>'
        '<button type="submit">登录</button></form>').format(next_url)
    return page("登录", body)
