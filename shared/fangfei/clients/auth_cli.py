"""`fangfei token …` and `fangfei keys …`: issue bearer tokens and manage the key directory.

    fangfei token issue --role grid_staff --street longgang --community magang --person P --ttl 3600
    fangfei token issue --role street_office --street longgang   # the office acts: longgang-street-office
    fangfei keys rotate            # new signing key; the previous public key stays accepted
    fangfei keys rotate --data     # new master key for reporter data (old ones still unwrap)
    fangfei keys retire <kid>      # stop accepting tokens of an old signing key
    fangfei keys list

The key directory is FANGFEI_AUTH_KEYS_DIR (default var/keys), or --keys-dir. `token issue`
prints only the token on stdout (so `TOKEN=$(fangfei token issue …)` works) and a summary of
its claims on stderr; the token is not logged anywhere."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any

from ..auth.config import AuthSettings
from ..auth.keys import MissingKey, TokenKeys, ensure_keys, list_keys, retire_token_key, rotate_data_key, rotate_token_key
from ..auth.roles import ROLES
from ..auth.tokens import AuthError, claims_for, sign
from . import output


def _settings(args: argparse.Namespace) -> AuthSettings:
    base = AuthSettings.from_env()
    return AuthSettings(**{**base.__dict__, "keys_dir": args.keys_dir or base.keys_dir})


def _csv(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


# An office's token acts for the office when no person is named (the actor its changes are recorded as).
OFFICE_SUBJECTS = {"street_office": "{street}-street-office", "community_office": "{community}-community-office",
                   "district_office": "district-office", "ops": "ops", "auditor": "auditor"}


def _subject(args: argparse.Namespace) -> str | None:
    if args.person:
        return args.person
    pattern = OFFICE_SUBJECTS.get(args.role)
    if pattern is None:
        return None
    return pattern.format(street=args.street or "street", community=args.community or "community")


def cmd_token_issue(args: argparse.Namespace) -> int:
    settings = _settings(args)
    subject = _subject(args)
    if subject is None:
        print(f"无法签发令牌：角色 {ROLES[args.role]}（{args.role}）的令牌须用 --person 指明本人（名册中的人员编号）",
              file=sys.stderr)
        return 2
    kw: dict[str, Any] = dict(subject=subject, role=args.role, street=args.street or "",
                              community=args.community or "", streets=_csv(args.streets), sectors=_csv(args.sectors),
                              ttl_s=args.ttl)
    try:
        claims = claims_for(settings=settings, **kw)
        token = sign(TokenKeys(settings.keys_dir), claims)
    except AuthError as exc:
        print(f"无法签发令牌：{exc.message}（{exc.code}）；角色 {ROLES[args.role]}（{args.role}）"
              f"{_needs(args.role)}", file=sys.stderr)
        return 2
    except MissingKey as exc:
        print(f"无法签发令牌：{exc}", file=sys.stderr)
        return 2
    expires = datetime.fromtimestamp(claims["exp"], timezone.utc)
    summary = {k: v for k, v in claims.items() if k not in ("iat", "exp", "jti", "iss", "aud")}
    if args.json:
        print(json.dumps({"token": token, "expires_at": expires.isoformat(), "claims": summary}, ensure_ascii=False))
        return 0
    scope = "、".join(f"{CLAIM_LABELS.get(k, k)} {output.cell(v)}" for k, v in summary.items() if k not in ("role",))
    print(f"# {ROLES[args.role]} · {scope} · 有效至 {output.local_time_labelled(expires)}", file=sys.stderr)
    print(token)
    return 0


CLAIM_LABELS = {"sub": "人员", "street": "街道", "community": "社区", "streets": "服务街道", "sectors": "负责行业"}


def _needs(role: str) -> str:
    from ..auth.roles import REQUIRED_CLAIMS

    needed = REQUIRED_CLAIMS[role]
    return "须给出 " + "、".join(f"--{c}" for c in needed) if needed else "不带街道和社区"


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    keys_dir = _settings(args).keys_dir
    if args.data:
        print(f"已生成新的举报人数据主密钥 {rotate_data_key(keys_dir)}（{keys_dir}/data；旧密钥保留，用于解开旧数据）")
    else:
        kid = rotate_token_key(keys_dir, keep=args.keep)
        print(f"已生成新的令牌签名密钥 {kid}；现可验证的密钥：{'、'.join(list_keys(keys_dir)['tokens']['kids'])}")
        print("各服务数秒内自动载入；此前签发的令牌在到期前仍然有效")
    return 0


def cmd_keys_retire(args: argparse.Namespace) -> int:
    keys_dir = _settings(args).keys_dir
    if not retire_token_key(keys_dir, args.kid):
        print(f"{args.kid}：未找到，或是当前使用的签名密钥（请先 fangfei keys rotate）", file=sys.stderr)
        return 1
    print(f"已停用密钥 {args.kid}：一分钟内各服务将拒绝其签发的令牌")
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    keys = list_keys(_settings(args).keys_dir)
    if args.json:
        return output.print_json(keys)
    rows = [{"kind": label, "kid": kid, "active": kid == keys[sub]["active"]}
            for sub, label in (("tokens", "令牌签名密钥"), ("data", "举报人数据主密钥")) for kid in keys[sub]["kids"]]
    output.table(rows, [("kind", "密钥种类"), ("kid", "密钥编号"), ("active", "当前使用")], title="密钥目录（不含密钥内容）",
                 empty="密钥目录为空（fangfei keys init 生成）")
    return 0


def cmd_keys_init(args: argparse.Namespace) -> int:
    keys_dir = _settings(args).keys_dir
    print(("已生成密钥：" if ensure_keys(keys_dir) else "密钥已存在：") + keys_dir)
    return 0


def _keys_dir_arg(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--keys-dir", help="key directory (default FANGFEI_AUTH_KEYS_DIR or var/keys)")
    return parser


def register(subparsers: Any) -> None:
    """Add `token` and `keys` to the `fangfei` command line."""
    token = subparsers.add_parser("token", help="issue bearer tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    iss = _keys_dir_arg(token_sub.add_parser("issue", help="print a signed token for a person and role"))
    iss.add_argument("--role", required=True, choices=sorted(ROLES))
    iss.add_argument("--person", help="the person's roster id (the token subject, the actor); offices, ops and "
                                      "auditors may leave it out (the office itself acts, e.g. longgang-street-office)")
    iss.add_argument("--street", help="the person's street (grid staff, community and street offices)")
    iss.add_argument("--community", help="the person's community (grid staff, community offices)")
    iss.add_argument("--streets", help="member units: comma-separated streets served")
    iss.add_argument("--sectors", help="member units: comma-separated sectors answered for")
    iss.add_argument("--ttl", type=int, default=3600, help="seconds until it expires (default 3600, max 8 h)")
    iss.add_argument("--json", action="store_true", help="print token, expiry and claims as JSON")
    iss.set_defaults(func=cmd_token_issue)

    keys = subparsers.add_parser("keys", help="manage token and data keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    rot = _keys_dir_arg(keys_sub.add_parser("rotate", help="new signing key (with --data: a new data master key)"))
    rot.add_argument("--data", action="store_true", help="rotate the master key of reporter data instead")
    rot.add_argument("--keep", type=int, default=2, help="verification keys kept, the new one included (default 2)")
    rot.set_defaults(func=cmd_keys_rotate)
    ret = _keys_dir_arg(keys_sub.add_parser("retire", help="stop accepting tokens signed by an old key"))
    ret.add_argument("kid")
    ret.set_defaults(func=cmd_keys_retire)
    lst = _keys_dir_arg(keys_sub.add_parser("list", help="kids in the key directory (no key material)"))
    lst.add_argument("--json", action="store_true", help="print JSON (for scripts)")
    lst.set_defaults(func=cmd_keys_list)
    _keys_dir_arg(keys_sub.add_parser("init", help="create keys if there are none")).set_defaults(func=cmd_keys_init)
