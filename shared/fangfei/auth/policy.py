"""The one policy table: (service, method, route) × role → the scope in which the role may act.

Deny by default: a route missing here, a role missing from its entry, a method the route does not
list (HEAD, OPTIONS, …) are all refused with 403 by `fangfei.http.api`. `route` is the template
string each endpoint passes to `@api` (e.g. "/api/clues/<id>"), the same label its metrics use.

Scopes say *which* resources inside an allowed route a role reaches; endpoints apply them through
`Access` (access.py), because only the endpoint knows the street of the clue or row it loaded:

- ALL        every street of the district (district office, auditor)
- STREET     the streets of the token (`street`, or a member unit's `streets`)
- COMMUNITY  the token's community within its street (grid staff, community office)
- SELF       only what is addressed to the token's person (a member unit's own deliveries)

/health and /metrics are open to anyone and are not routed through here (see PUBLIC); /metrics
carries no personal data (labels are routes, types, streets and levels only).

Roster and escalation are being extended in parallel; they become enforced when they leave
PENDING_SERVICES. Their entries below are ready for the routes they have today: see
docs/security.md, "Applying access control to a service".
"""

from __future__ import annotations

from enum import Enum
from typing import Mapping

from .roles import AUDITOR, COMMUNITY_OFFICE, DISTRICT_OFFICE, GRID_STAFF, MEMBER_UNIT, STREET_OFFICE


class Scope(str, Enum):
    ALL = "all"
    STREET = "street"
    COMMUNITY = "community"
    SELF = "self"


ALL, STREET, COMMUNITY, SELF = Scope.ALL, Scope.STREET, Scope.COMMUNITY, Scope.SELF

# Read access of the people who work a street's clues; the auditor reads everything, changes nothing.
_READ_CLUES: dict[str, Scope] = {
    GRID_STAFF: COMMUNITY, COMMUNITY_OFFICE: COMMUNITY, STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL, AUDITOR: ALL,
}
_READ_LEDGERS: dict[str, Scope] = {**_READ_CLUES, MEMBER_UNIT: STREET}

POLICY: dict[tuple[str, str, str], Mapping[str, Scope]] = {
    # intake: clues come in from the people of a street; the district office reads, it does not report
    ("intake", "POST", "/api/clues"): {GRID_STAFF: COMMUNITY, COMMUNITY_OFFICE: COMMUNITY, STREET_OFFICE: STREET},
    ("intake", "GET", "/api/clues/<id>"): _READ_CLUES,
    # reporter identity (举报人保护): only the offices that pay rewards or answer to the courts
    ("intake", "POST", "/api/reporters/<id>/identity"): {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL},
    ("intake", "POST", "/api/reporters/<id>/erasure"): {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL},
    ("intake", "GET", "/api/reporters/<id>/audit"): {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL, AUDITOR: ALL},
    # ledger (台账): read models; member units see the ledgers of the streets they serve
    ("ledger", "GET", "/api/ledgers/<ledger>"): _READ_LEDGERS,
    ("ledger", "GET", "/api/ledgers/<ledger>/<id>"): _READ_LEDGERS,
    # notification: the delivery log; a member unit sees what was sent to it
    ("notification", "GET", "/api/deliveries"): {**_READ_CLUES, MEMBER_UNIT: SELF},
    # roster (pending): the office of a street loads its own roster; everyone reads their street's
    ("roster", "POST", "/api/roster/import"): {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL},
    ("roster", "GET", "/api/roster/streets/<id>/tree"): _READ_LEDGERS,
    ("roster", "GET", "/api/roster/route"): _READ_LEDGERS,
    # escalation (pending)
    ("escalation", "GET", "/api/cases/<id>"): _READ_LEDGERS,
}

# Answer without a token, on every service: liveness and Prometheus scraping (ops).
PUBLIC: frozenset[tuple[str, str]] = frozenset({("GET", "/health"), ("GET", "/metrics")})

# Services whose endpoints are not enforced yet (being extended in parallel). Remove a service
# from here once its endpoints apply `Access` scoping: tests/contract/test_access_policy.py then
# requires a POLICY entry for each of its routes.
PENDING_SERVICES: frozenset[str] = frozenset({"roster", "escalation"})


def scope_for(service: str, method: str, route: str, role: str) -> Scope | None:
    """The scope `role` has on this route, or None: denied."""
    entry = POLICY.get((service, method.upper(), route))
    return entry.get(role) if entry is not None else None


def enforced(service: str) -> bool:
    return service not in PENDING_SERVICES
