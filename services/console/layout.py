"""The page frame every console page shares, and the Chinese formats of dates, counts and durations.

Pages are plain HTML strings built with `markupsafe.Markup`/`escape`: every value that came from a
person or a service goes through `escape` (the `h` helper), so a clue titled `<script>` is text.
No page loads anything from another address: the style and the one small script are inline."""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from markupsafe import Markup, escape

from fangfei.auth.principal import Principal
from fangfei.auth.roles import ROLES
from fangfei.clock import SHANGHAI

from .names import NO_NAMES, Names

h = escape

STYLE = """
*{box-sizing:border-box}body{margin:0;font:16px/1.6 system-ui,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:#1b1b1b;background:#f5f6f8}
header{background:#8b1a1a;color:#fff;padding:.5rem 1rem}header a{color:#fff}
.brand{font-weight:bold;font-size:1.1rem;margin-right:1rem}
nav ul{list-style:none;margin:.25rem 0 0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
nav a{display:inline-block;padding:.35rem 0;text-decoration:none;border-bottom:2px solid transparent}
nav a[aria-current=page]{border-bottom-color:#fff}
.who{font-size:.85rem;opacity:.9}
main{max-width:72rem;margin:0 auto;padding:1rem;overflow-wrap:anywhere}
h1{font-size:1.35rem;margin:.5rem 0 1rem}h2{font-size:1.1rem;margin:1.25rem 0 .5rem}
a{color:#0b4f9c}a:focus,button:focus,input:focus,select:focus,textarea:focus,summary:focus{outline:3px solid #f0a500;outline-offset:2px}
.card{background:#fff;border:1px solid #d8dbe0;border-radius:6px;padding:1rem;margin-bottom:1rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input,select,textarea{width:100%;font:inherit;padding:.5rem;border:1px solid #8a9099;border-radius:4px;background:#fff}
textarea{min-height:7rem}
button,.button{display:inline-block;font:inherit;padding:.55rem 1.1rem;margin:.75rem .5rem 0 0;border:0;border-radius:4px;background:#0b4f9c;color:#fff;text-decoration:none;cursor:pointer}
button.secondary,.button.secondary{background:#5a6270}
.table-wrap{overflow-x:auto;background:#fff;border:1px solid #d8dbe0;border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:.95rem}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e4e6ea;vertical-align:top}
th{background:#eef0f3;white-space:nowrap}
.badge{display:inline-block;padding:0 .45rem;border-radius:3px;font-size:.85rem;background:#e4e6ea}
.overdue{background:#fde2e1;color:#8b1a1a;font-weight:600}.mine{background:#e1effd;color:#0b4f9c}
.tag-red{background:#c62828;color:#fff}.tag-yellow{background:#f9c846;color:#1b1b1b}.tag-green{background:#2e7d32;color:#fff}
.notice{padding:.75rem 1rem;border-radius:4px;margin-bottom:1rem;background:#e6f4ea;border:1px solid #a8d5b5}
.error{background:#fde2e1;border:1px solid #e8a3a0}
.hint{color:#555;font-size:.9rem}
.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:0 1rem;align-items:end}
.tree,.tree ul{list-style:none;padding-left:1.1rem;margin:0}.tree>li{padding-left:0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
ul.plain{list-style:none;padding:0;margin:0}.exports .button{margin-top:.5rem}
progress{width:100%;height:1.1rem}.checklist{list-style:none;padding:0;margin:.5rem 0 0}
.checklist li{padding:.15rem 0}.checklist .done span[aria-hidden]{color:#2e7d32}.checklist .todo span[aria-hidden]{color:#8b1a1a}
ol.timeline{padding-left:1.2rem}ol.timeline li{margin-bottom:.5rem}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000;padding:.5rem;z-index:9}
@media (max-width:40rem){main{padding:.75rem}th,td{padding:.4rem}.hide-narrow{display:none}}
"""

NAV: tuple[tuple[str, str], ...] = (("/", "首页"), ("/clues/new", "上报线索"), ("/ledgers", "工作台账"),
                                    ("/statistics", "统计报表"), ("/ten-ones", "十个一"), ("/roster", "网格名册"))


def page(title: str, body: Markup | str, principal: Principal | None = None, current: str = "",
         scripts: str = "", names: Names | None = None) -> str:
    """A whole page: header with navigation (when signed in), the body, an optional inline script.
    `names` are the roster's names of the street shown, for the signed-in person's line."""
    nav = Markup("")
    if principal is not None:
        items = Markup("").join(
            Markup('<li><a href="{}"{}>{}</a></li>').format(href, Markup(' aria-current="page"') if href == current else "",
                                                           label) for href, label in NAV)
        nav = Markup(
            '<nav aria-label="主导航"><ul>{}<li><form method="post" action="/logout" style="display:inline">'
            '<button class="secondary" style="margin:0;padding:.2rem .6rem">退出</button></form></li></ul></nav>'
            '<div class="who">{}</div>').format(items, who(principal, names))
    script = Markup("<script>{}</script>").format(Markup(scripts)) if scripts else ""
    return str(Markup(
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<title>{} · 防非工作台</title><style>{}</style></head><body>'
        '<a class="skip" href="#main">跳到正文</a>'
        '<header><span class="brand">防非工作台</span>{}</header>'
        '<main id="main" tabindex="-1"><h1>{}</h1>{}</main>{}</body></html>'
    ).format(title, Markup(STYLE), nav, title, body, script))


def who(p: Principal, names: Names | None = None) -> Markup:
    """角色 · 姓名 · 街道、社区, by name: an id the roster does not name is a placeholder."""
    n = names or NO_NAMES
    if p.district_wide:
        where = "全区"
    else:
        streets = [p.street] if p.street else list(p.streets)
        where = "、".join([n.street(s) for s in streets] + ([n.community(p.community)] if p.community else []))
    return Markup("{} · {} · {}").format(ROLES.get(p.role, "（未知角色）"), n.person(p.subject), where)


def notice(text: str, error: bool = False) -> Markup:
    return Markup('<div class="notice{}" role="{}">{}</div>').format(" error" if error else "",
                                                                     "alert" if error else "status", text)


def table(headers: Iterable[str], rows: Iterable[Iterable[Markup | str]], caption: str = "") -> Markup:
    head = Markup("").join(Markup('<th scope="col">{}</th>').format(x) for x in headers)
    body = Markup("").join(Markup("<tr>{}</tr>").format(Markup("").join(Markup("<td>{}</td>").format(c) for c in r))
                           for r in rows)
    cap = Markup("<caption class=\"hint\">{}</caption>").format(caption) if caption else ""
    return Markup('<div class="table-wrap"><table>{}<thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>').format(
        cap, head, body)


# -- Chinese formats ---------------------------------------------------------------------------
def cn_time(value: str | None) -> str:
    """ISO instant → 2026年3月14日 10:05 (Beijing time); an unparseable value is shown as is."""
    if not value:
        return "—"
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if t.tzinfo is not None:
        t = t.astimezone(SHANGHAI)
    return f"{t.year}年{t.month}月{t.day}日 {t.hour:02d}:{t.minute:02d}"


def cn_count(n: int | float | None) -> str:
    """1234 → 1,234 (the separator Chinese office forms use)."""
    return f"{int(n or 0):,}"


def cn_duration(seconds: int | float | None) -> str:
    """Seconds → 1天3小时 / 3小时20分 / 5分钟."""
    s = max(0, int(seconds or 0))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{minutes}分" if minutes else f"{hours}小时"
    return f"{minutes}分钟"


def now_local_input() -> str:
    """The value of a datetime-local field for now (minutes), Beijing time."""
    return datetime.now(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
