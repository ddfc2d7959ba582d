"""Where a caller may act, on top of the policy table (fangfei.auth.policy): the street of a
command, and which cases a community's people may still work on.

The policy says which roles reach a route and in what scope (community, street, district); the
endpoints then need two escalation-specific rules, kept here so they are stated once:

- **the street of a command** is the token's (a street-bound caller naming another street is
  refused); a district-wide caller has no street of its own, so it must name one;
- **community-scoped roles** (grid staff, community office) work a case only while it is at one of
  their own levels (三级网格, 二级网格): once it has gone up to the street or the district it is
  that level's business, and 领导包案 / 挂牌督办 are a leader's acts, not a grid worker's.
"""

from __future__ import annotations

from fangfei.auth.access import Access, Forbidden
from fangfei.auth.policy import Scope
from fangfei.http import HttpError

from .domain.case import Case
from .domain.vocabulary import ACTION_LABELS, LEVEL_LABELS

COMMUNITY_LEVELS = (3, 2)
OFFICE_ONLY_ACTIONS = frozenset({"assign_leader", "list_supervision"})


def command_street(access: Access, requested: str) -> str:
    """The street a command acts in: the token's own; `requested` may only repeat it. A
    district-wide caller (scope ALL) names the street it acts in."""
    if access.scope is Scope.ALL:
        if not requested:
            raise HttpError(400, "street_required", "请指定街道（street_id）")
        return requested
    street = access.write_street()
    if requested and requested != street:
        raise Forbidden("street_out_of_scope", "无权操作其他街道的数据")
    return street


def read_street(access: Access, requested: str, *, required: bool = False) -> str:
    """The street a query reads: the caller's own unless it may read the whole district; ""
    means every street (district-wide callers only, where the query allows it)."""
    street = access.list_street(requested)
    if required and not street:
        raise HttpError(400, "street_required", "请指定街道（street_id）")
    return street


def check_case_action(access: Access, case: Case, action: str) -> None:
    """Refuse (403) an action the caller's role may not take on this case at its current level.
    Call only after the case was found to be in the caller's scope (else it is a 404)."""
    if access.scope is not Scope.COMMUNITY:
        return
    if action in OFFICE_ONLY_ACTIONS:
        raise Forbidden("office_only_action", f"「{ACTION_LABELS[action]}」须由街道或区处非办办理")
    if case.level not in COMMUNITY_LEVELS:
        raise Forbidden("level_out_of_scope",
                        f"案件已上报至{LEVEL_LABELS.get(case.level, str(case.level))}，社区和网格人员不能再办理")
