"""The roles a token can carry, their Chinese names, and the claims each role must have.

A role says *what* a person may do (the policy table in policy.py); the scope claims say *where*:
`street` and `community` for the people of one street, `streets` and `sectors` for member units
and agencies that serve several streets. The district office, the auditor and ops have no street:
their reach is the whole district (or, for ops, nothing but /health and /metrics)."""

from __future__ import annotations

GRID_STAFF = "grid_staff"
COMMUNITY_OFFICE = "community_office"
STREET_OFFICE = "street_office"
DISTRICT_OFFICE = "district_office"
MEMBER_UNIT = "member_unit"
OPS = "ops"
AUDITOR = "auditor"

ROLES: dict[str, str] = {
    GRID_STAFF: "网格员/网格长",
    COMMUNITY_OFFICE: "社区（村）工作人员",
    STREET_OFFICE: "街道处非办",
    DISTRICT_OFFICE: "区处非办",
    MEMBER_UNIT: "成员单位/协作部门",
    OPS: "运维",
    AUDITOR: "审计",
}

# Claims a token of each role must carry (beyond sub, role, iss, aud, iat, exp, jti).
REQUIRED_CLAIMS: dict[str, tuple[str, ...]] = {
    GRID_STAFF: ("street", "community"),
    COMMUNITY_OFFICE: ("street", "community"),
    STREET_OFFICE: ("street",),
    DISTRICT_OFFICE: (),
    MEMBER_UNIT: ("streets", "sectors"),
    OPS: (),
    AUDITOR: (),
}

# Claims a role must NOT carry: a district-wide role with a street would be ambiguous.
FORBIDDEN_CLAIMS: dict[str, tuple[str, ...]] = {
    GRID_STAFF: ("streets", "sectors"),
    COMMUNITY_OFFICE: ("streets", "sectors"),
    STREET_OFFICE: ("community", "streets", "sectors"),
    DISTRICT_OFFICE: ("street", "community", "streets", "sectors"),
    MEMBER_UNIT: ("street", "community"),
    OPS: ("street", "community", "streets", "sectors"),
    AUDITOR: ("street", "community", "streets", "sectors"),
}

# A member unit's `sectors` claim names the industry sectors it answers for (the roster's sector
# codes, e.g. "elderly_care", "real_estate"); they are identifiers here, checked for shape only,
# so the roster's vocabulary can grow without re-issuing the code of the auth layer.
