"""`fangfei roster …`: read and change a street's roster through the roster service's HTTP API.

    fangfei roster tree longgang [--at 2026-03-14T10:00]
    fangfei roster who-is-responsible longgang --community magang [--sector 养老] [--at …]
    fangfei roster import 名册.xlsx [--street longgang] [--list 网格员名单]
    fangfei roster export 名册.xlsx --street longgang [--list 领导小组名单] [--at …]
    fangfei roster assign-chief longgang magang-l3-01 p-new --from 2026-03-01 [--name 网格长丙11]
    fangfei roster vacate longgang magang-l3-01 --from 2026-03-01
    fangfei roster register-unit longgang longgang-pcs --name 龙岗派出所 --kind 派出所 [--sectors 养老,房地产 --from …]
    fangfei roster assign-sectors longgang longgang-csgl --sectors 房地产,农林水产 --from 2026-01-01
    fangfei roster assign-role longgang p-01 --role 联络员 --community magang --from 2026-01-01 [--name …]
    fangfei roster end-role longgang p-01 --role 联络员 --community magang --until 2026-06-30
    fangfei roster leading-group longgang [--name …] [--office-unit longgang-ggfw]

The service is FANGFEI_ROSTER_URL (default http://127.0.0.1:8102) or --url. Every call sends the
bearer token of --token or FANGFEI_TOKEN (`fangfei token issue …`): reads need one of the street,
imports and changes a street office's (its own street) or the district office's; the changes are
recorded as that token's person. Codes and the Chinese labels on screen are
both accepted (派出所 or police_station); a time without offset is Beijing time. Exit status: 0 done,
1 refused by the roster (every reason is printed), 2 the service could not be reached or failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Mapping

from ..clock import SHANGHAI
from . import output
from ..vocab import INDUSTRY_SECTORS, LEADING_GROUP_POSITIONS, MEMBER_UNIT_KINDS, PERSON_ROLES, ROSTER_LISTS

DEFAULT_URL = "http://127.0.0.1:8102"
CHUNK = 64 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CREATED_LABELS = {
    "streets": "街道", "communities": "社区", "grids": "网格", "people": "人员", "chief_assignments": "网格长任命",
    "vacancies": "网格长空缺", "role_assignments": "任职", "role_endings": "离任", "member_units": "成员单位",
    "sector_assignments": "负责行业", "leading_groups": "领导小组",
}


class Refused(Exception):
    """The roster answered 4xx: `message` and `reasons` say why, in Chinese."""

    def __init__(self, status: int, message: str, reasons: list[str]) -> None:
        super().__init__(message)
        self.status, self.message, self.reasons = status, message, reasons


class Unreachable(Exception):
    pass


# -- HTTP ------------------------------------------------------------------------------------------
def _open(args: argparse.Namespace, method: str, path: str, *, query: Mapping[str, Any] | None = None,
          body: Any = None, raw: bytes | Iterable[bytes] | None = None, content_type: str = "",
          length: int | None = None) -> Any:
    params = {k: v for k, v in (query or {}).items() if v not in (None, "", False)}
    url = args.url.rstrip("/") + urllib.parse.quote(path) + ("?" + urllib.parse.urlencode(params) if params else "")
    headers = {"Accept": "application/json"}
    data = raw
    if body is not None:
        data, content_type = json.dumps(body, ensure_ascii=False).encode(), "application/json"
    if content_type:
        headers["Content-Type"] = content_type
    if length is not None:
        headers["Content-Length"] = str(length)
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    return urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers),
                                  timeout=args.timeout)


def request_to_file(args: argparse.Namespace, path: str, out: str, meter: output.Meter,
                    query: Mapping[str, Any] | None = None) -> int:
    """GET a file from the roster into `out`, reporting the bytes received; return its size."""
    try:
        with _open(args, "GET", path, query=query) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            size = 0
            with open(out, "wb") as fh:
                while chunk := resp.read(CHUNK):
                    fh.write(chunk)
                    size += len(chunk)
                    meter.update(size, total)
            return size
    except urllib.error.HTTPError as exc:
        raise _http_failure(args, exc) from exc
    except urllib.error.URLError as exc:
        raise Unreachable(f"无法连接名册服务 {args.url}：{exc}") from exc


def _http_failure(args: argparse.Namespace, exc: urllib.error.HTTPError) -> Exception:
    text = exc.read().decode(errors="replace")
    if exc.code >= 500:
        return Unreachable(f"名册服务出错（{exc.code}）：{text[:200]}")
    return _refusal(exc.code, text)


def request(args: argparse.Namespace, method: str, path: str, *, query: Mapping[str, Any] | None = None,
            body: Any = None, raw: bytes | Iterable[bytes] | None = None, content_type: str = "",
            length: int | None = None) -> tuple[bytes, Mapping[str, str]]:
    """Call the roster; return (body, headers) of a 2xx answer, raise Refused / Unreachable otherwise."""
    try:
        with _open(args, method, path, query=query, body=body, raw=raw, content_type=content_type,
                   length=length) as resp:
            return resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace")
        if exc.code >= 500:
            raise Unreachable(f"名册服务出错（{exc.code}）：{text[:200]}") from exc
        raise _refusal(exc.code, text) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise Unreachable(f"无法连接名册服务 {args.url}：{exc}") from exc


def _refusal(status: int, text: str) -> Refused:
    try:
        error = json.loads(text)["error"]
    except (ValueError, KeyError, TypeError):
        return Refused(status, text[:200] or f"HTTP {status}", [])
    listed = output.field_messages(error)
    if listed is not None:  # a validation error: each bad field's messages carry its label already
        return Refused(status, error.get("message", f"HTTP {status}"), listed)
    details = error.get("details") or {}
    reasons = [f"{r.get('sheet', '')}第 {r['row']} 行：{r['reason']}" for r in details.get("rows", [])]
    reasons += list(details.get("reasons", []))
    reasons += [f"{k}：{'；'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in details.items()
                if k not in ("rows", "reasons")]
    return Refused(status, error.get("message", f"HTTP {status}"), reasons)


def get_json(args: argparse.Namespace, path: str, query: Mapping[str, Any] | None = None) -> Any:
    return json.loads(request(args, "GET", path, query=query)[0])


def send_json(args: argparse.Namespace, method: str, path: str, body: Mapping[str, Any]) -> Any:
    body = {k: v for k, v in body.items() if v not in (None, "")}
    return json.loads(request(args, method, path, body=body)[0])


# -- argument values -------------------------------------------------------------------------------
def _coder(mapping: Mapping[str, str], what: str) -> Callable[[str], str]:
    known = {**{k: k for k in mapping}, **{v: k for k, v in mapping.items()}}

    def parse(value: str) -> str:
        if value not in known:
            raise argparse.ArgumentTypeError(f"{what}「{value}」无效：应为 {'、'.join(mapping.values())} 之一")
        return known[value]

    return parse


def _instant(value: str) -> str:
    """ISO time; without an offset it is Beijing time (a date alone: its midnight)."""
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"时间「{value}」无效：如 2026-03-01 或 2026-03-01T09:00:00+08:00") from None
    return (at if at.tzinfo else at.replace(tzinfo=SHANGHAI)).isoformat()


def _sectors(value: str) -> list[str]:
    parse = _coder(INDUSTRY_SECTORS, "行业")
    return [parse(part) for part in value.replace("、", ",").replace("，", ",").split(",") if part.strip()]


# -- commands --------------------------------------------------------------------------------------
def cmd_tree(args: argparse.Namespace) -> int:
    tree = get_json(args, f"/api/roster/streets/{args.street}/tree", {"at": args.at})
    if args.json:
        return _dump(tree)
    print(f"{tree['name']}（{tree['street_id']}）  时点 {output.local_time_labelled(tree['at'])}")

    def show(node: dict[str, Any], depth: int) -> None:
        chief = node["chief"]["name"] if node["chief"] else "（空缺）"
        staff = "；".join(f"{s['role_label']}：{s['name']}" for s in node["staff"])
        print(f"{'  ' * depth}{node['level_label']} {node['name']} [{node['grid_id']}] 网格长：{chief}"
              + (f"；{staff}" if staff else ""))
        for child in node["children"]:
            show(child, depth + 1)

    for root in tree["grids"]:
        show(root, 0)
    if tree["member_units"]:
        output.table(tree["member_units"], [
            ("name", "成员单位"), ("kind_label", "类型"), ("sector_labels", "负责行业"),
            (lambda u: "、".join(f"{c['name']} {c['phone']}".strip() for c in u["contacts"]) or "（空缺）", "联系人"),
            ("is_office", "领导小组办公室")], title="成员单位")
    group = tree["leading_group"]
    if group:
        print(f"领导小组：{group['name']}（办公室：{group['office_unit_name'] or '未设'}）")
        output.table(group["members"], [("position_label", "职务"), ("name", "姓名"), ("title", "单位及职务")])
    return 0


def cmd_who(args: argparse.Namespace) -> int:
    if not (args.community or args.grid or args.sector):
        raise Refused(400, "须给出 --community、--grid 或 --sector", [])
    found = get_json(args, f"/api/roster/streets/{args.street}/responsible",
                     {"community_id": args.community, "grid_id": args.grid, "sector": args.sector, "at": args.at})
    if args.json:
        return _dump(found)
    grid = found["grid"]
    if grid:
        where = f"{grid['level_label']} {grid['grid_name']} [{grid['grid_id']}]" if grid["grid_id"] else grid["level_label"]
        who = f"{grid['person_name']}（{grid['person_id']}）" if grid["person_id"] else "区处非办"
        print(f"按网格：{where} → {who}")
        if grid["note"]:
            print(f"  说明：{grid['note']}")
    sector = found["sector"]
    if sector:
        units = "、".join(u["name"] for u in sector["units"])
        people = "、".join(f"{p['name']}（{p['person_id']}）" for p in sector["people"]) or "区处非办"
        target = f"{sector['target_label']} {units}" if units else sector["target_label"]
        print(f"按行业「{sector['sector_label'] or sector['sector']}」：{target} → {people}")
        if sector["note"]:
            print(f"  说明：{sector['note']}")
    return 0


def _uploading(data: bytes, meter: output.Meter) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start:start + CHUNK]
        meter.update(min(start + CHUNK, len(data)))
    meter.update(len(data), description="已上传，名册服务校验并记录中")


def cmd_import(args: argparse.Namespace) -> int:
    with open(args.file, "rb") as fh:
        data = fh.read()
    content_type = XLSX_TYPE if args.file.lower().endswith(".xlsx") else "text/csv; charset=utf-8"
    meter = output.Meter(f"上传名册 {os.path.basename(args.file)}", total=len(data), unit="B")
    try:
        body, _ = request(args, "POST", "/api/roster/import", raw=_uploading(data, meter), content_type=content_type,
                          query={"street_id": args.street, "list": args.list}, length=len(data))
    finally:
        meter.close()
    answer = json.loads(body)
    if args.json:
        return _dump(answer)
    print(f"已导入 {answer['rows']} 行：{_created(answer['created'])}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    fmt = args.format or ("xlsx" if args.file.lower().endswith(".xlsx") else "csv")
    meter = output.Meter(f"导出{ROSTER_LISTS[args.list]}", unit="B")
    try:
        size = request_to_file(args, f"/api/roster/streets/{args.street}/export", args.file, meter, query={
            "list": args.list, "format": fmt, "at": args.at, "community_id": args.community})
    finally:
        meter.close()
    print(f"已导出{ROSTER_LISTS[args.list]}到 {args.file}（{size} 字节）")
    return 0


def _change(args: argparse.Namespace, method: str, path: str, body: Mapping[str, Any]) -> int:
    answer = send_json(args, method, path, body)
    if args.json:
        return _dump(answer)
    created = answer["created"]
    print(f"已记录：{_created(created)}" if any(created.values()) else "无需变更：名册已是如此")
    return 0


def cmd_assign_chief(args: argparse.Namespace) -> int:
    return _change(args, "POST", f"/api/roster/streets/{args.street}/grids/{args.grid}/chief",
                   {"person_id": args.person, "valid_from": args.valid_from, "name": args.name, "phone": args.phone})


def cmd_vacate(args: argparse.Namespace) -> int:
    return _change(args, "POST", f"/api/roster/streets/{args.street}/grids/{args.grid}/vacancy",
                   {"valid_from": args.valid_from})


def cmd_register_unit(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"unit_id": args.unit, "name": args.name, "kind": args.kind, "is_office": args.office}
    if args.sectors is not None:
        body.update(sectors=args.sectors, sectors_from=args.valid_from)
    return _change(args, "POST", f"/api/roster/streets/{args.street}/member-units", body)


def cmd_assign_sectors(args: argparse.Namespace) -> int:
    return _change(args, "POST", f"/api/roster/streets/{args.street}/member-units/{args.unit}/sectors",
                   {"sectors": args.sectors, "valid_from": args.valid_from})


def _place(args: argparse.Namespace) -> dict[str, Any]:
    return {"role": args.role, "community_id": args.community, "grid_id": args.grid, "unit_id": args.unit,
            "position": args.position}


def cmd_assign_role(args: argparse.Namespace) -> int:
    return _change(args, "POST", f"/api/roster/streets/{args.street}/people/{args.person}/roles", {
        **_place(args), "title": args.title, "valid_from": args.valid_from, "valid_until": args.valid_until,
        "name": args.name, "phone": args.phone})


def cmd_end_role(args: argparse.Namespace) -> int:
    return _change(args, "POST", f"/api/roster/streets/{args.street}/people/{args.person}/roles/end",
                   {**_place(args), "valid_until": args.valid_until})


def cmd_leading_group(args: argparse.Namespace) -> int:
    return _change(args, "PUT", f"/api/roster/streets/{args.street}/leading-group",
                   {"name": args.name, "office_unit_id": args.office_unit})


def _created(created: Mapping[str, int]) -> str:
    parts = [f"{CREATED_LABELS.get(k, k)} {n}" for k, n in created.items() if n]
    return "新记录 " + "、".join(parts) if parts else "没有新记录（名册已是如此）"


def _dump(data: Any) -> int:
    return output.print_json(data)


def _run(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the roster's refusals and connection failures into a message and an exit status."""

    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except Refused as exc:
            print(exc.message, file=sys.stderr)
            for reason in exc.reasons:
                print(f"  {reason}", file=sys.stderr)
            return 1
        except Unreachable as exc:
            print(str(exc), file=sys.stderr)
            return 2
        except OSError as exc:  # the file to import or export
            print(f"文件无法读写：{exc}", file=sys.stderr)
            return 2

    return run


# -- wiring ----------------------------------------------------------------------------------------
def register(subparsers: Any) -> None:
    """Add `roster` and its subcommands to the `fangfei` parser (each sets `func`)."""
    roster = subparsers.add_parser("roster", help="名册：网格树、谁负责、导入导出、任免",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = {"url": os.environ.get("FANGFEI_ROSTER_URL", DEFAULT_URL), "token": os.environ.get("FANGFEI_TOKEN", ""),
                "json": False, "timeout": 60.0}
    # the same options are accepted before or after the subcommand; given after, they win
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    for parser in (roster, common):
        parser.add_argument("--url", help=f"roster service (FANGFEI_ROSTER_URL, default {DEFAULT_URL})")
        parser.add_argument("--token", help="bearer token (or FANGFEI_TOKEN)")
        parser.add_argument("--json", action="store_true", help="print the service's JSON answer")
        parser.add_argument("--timeout", type=float)
    roster.set_defaults(**defaults)
    sub = roster.add_subparsers(dest="roster_command", required=True)
    role = _coder(PERSON_ROLES, "人员角色")
    position = _coder(LEADING_GROUP_POSITIONS, "小组职务")
    list_kind = _coder(ROSTER_LISTS, "名单")

    def command(name: str, fn: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, parents=[common])
        p.set_defaults(func=_run(fn))
        return p

    p = command("tree", cmd_tree, "街道网格树，含成员单位和领导小组")
    p.add_argument("street")
    p.add_argument("--at", type=_instant)
    p = command("who-is-responsible", cmd_who, "谁负责：按社区/网格，和/或按行业")
    p.add_argument("street")
    p.add_argument("--community")
    p.add_argument("--grid")
    p.add_argument("--sector", type=_coder(INDUSTRY_SECTORS, "行业"))
    p.add_argument("--at", type=_instant)
    p = command("import", cmd_import, "导入名册文件（CSV 或 XLSX）")
    p.add_argument("file")
    p.add_argument("--street", help="只导入此街道（他街道的行被拒绝）")
    p.add_argument("--list", type=list_kind, help="名单种类（默认按表头识别）")
    p = command("export", cmd_export, "导出名单（按扩展名 .csv / .xlsx）")
    p.add_argument("file")
    p.add_argument("--street", required=True)
    p.add_argument("--list", type=list_kind, default="street")
    p.add_argument("--format", choices=("csv", "xlsx"))
    p.add_argument("--at", type=_instant, help="只导出此时点在任的（默认：全部历史）")
    p.add_argument("--community", help="网格员名单只导出此社区")
    p = command("assign-chief", cmd_assign_chief, "任命网格长（自某时起）")
    p.add_argument("street")
    p.add_argument("grid")
    p.add_argument("person")
    p.add_argument("--from", dest="valid_from", type=_instant, required=True)
    p.add_argument("--name", help="新人员的姓名（人员尚未登记时必填）")
    p.add_argument("--phone")
    p = command("vacate", cmd_vacate, "网格长空缺（自某时起）")
    p.add_argument("street")
    p.add_argument("grid")
    p.add_argument("--from", dest="valid_from", type=_instant, required=True)
    p = command("register-unit", cmd_register_unit, "登记成员单位（及其负责行业）")
    p.add_argument("street")
    p.add_argument("unit")
    p.add_argument("--name", required=True)
    p.add_argument("--kind", type=_coder(MEMBER_UNIT_KINDS, "单位类型"), required=True)
    p.add_argument("--sectors", type=_sectors, help="负责行业，逗号或顿号分隔")
    p.add_argument("--from", dest="valid_from", type=_instant, help="负责行业的起始时间")
    p.add_argument("--office", action="store_true", help="领导小组办公室设在此单位")
    p = command("assign-sectors", cmd_assign_sectors, "成员单位自某时起负责的行业")
    p.add_argument("street")
    p.add_argument("unit")
    p.add_argument("--sectors", type=_sectors, required=True)
    p.add_argument("--from", dest="valid_from", type=_instant, required=True)
    for name, fn, help_ in (("assign-role", cmd_assign_role, "人员任职（自某时起）"),
                            ("end-role", cmd_end_role, "人员离任（于某时）")):
        p = command(name, fn, help_)
        p.add_argument("street")
        p.add_argument("person")
        p.add_argument("--role", type=role, required=True)
        p.add_argument("--community")
        p.add_argument("--grid")
        p.add_argument("--unit")
        p.add_argument("--position", type=position)
        if name == "assign-role":
            p.add_argument("--title", help="单位及职务")
            p.add_argument("--from", dest="valid_from", type=_instant, required=True)
            p.add_argument("--until", dest="valid_until", type=_instant)
            p.add_argument("--name")
            p.add_argument("--phone")
        else:
            p.add_argument("--until", dest="valid_until", type=_instant, required=True)
    p = command("leading-group", cmd_leading_group, "领导小组名称及办公室所在单位")
    p.add_argument("street")
    p.add_argument("--name")
    p.add_argument("--office-unit")


def main(argv: list[str] | None = None) -> int:
    """`python -m fangfei.clients.roster_cli …` (the same as `fangfei roster …`)."""
    parser = argparse.ArgumentParser(prog="fangfei")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
