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

A new service is listed in PENDING_SERVICES until its routes are gated (docs/security.md,
"Applying access control to a service"); today every service is enforced.
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
# Who works cases (登记、上报、处置…) and who runs a street's campaigns and risk enterprises.
_WORK_CASES: dict[str, Scope] = {
    GRID_STAFF: COMMUNITY, COMMUNITY_OFFICE: COMMUNITY, STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL,
}
_STREET_OFFICES: dict[str, Scope] = {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL}

POLICY: dict[tuple[str, str, str], Mapping[str, Scope]] = {
    # intake: clues come in from the people of a street; the district office reads, it does not report
    ("intake", "POST", "/api/clues"): {GRID_STAFF: COMMUNITY, COMMUNITY_OFFICE: COMMUNITY, STREET_OFFICE: STREET},
    ("intake", "GET", "/api/clues/<id>"): _READ_CLUES,
    # typed ledger records (日常监管、宣传、信访…): entered by the people of a street, like clues
    ("intake", "POST", "/api/records/<kind>"): {GRID_STAFF: COMMUNITY, COMMUNITY_OFFICE: COMMUNITY, STREET_OFFICE: STREET},
    # reporter identity (举报人保护): only the offices that pay rewards or answer to the courts
    ("intake", "POST", "/api/reporters/<id>/identity"): {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL},
    ("intake", "POST", "/api/reporters/<id>/erasure"): {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL},
    ("intake", "GET", "/api/reporters/<id>/audit"): {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL, AUDITOR: ALL},
    # ledger (台账): read models; member units see the ledgers of the streets they serve
    ("ledger", "GET", "/api/ledgers/<ledger>"): _READ_LEDGERS,
    ("ledger", "GET", "/api/ledgers/<ledger>/<id>"): _READ_LEDGERS,
    ("ledger", "GET", "/api/ledgers/<ledger>/export"): _READ_LEDGERS,
    ("ledger", "GET", "/api/statistics/<table>"): _READ_LEDGERS,
    ("ledger", "GET", "/api/statistics/<table>/export"): _READ_LEDGERS,
    # rebuilding the read models and checking them against the log: the district office only
    ("ledger", "POST", "/api/ledger-admin/rebuild"): {DISTRICT_OFFICE: ALL},
    ("ledger", "GET", "/api/ledger-admin/rebuild"): {DISTRICT_OFFICE: ALL},
    ("ledger", "POST", "/api/ledger-admin/check"): {DISTRICT_OFFICE: ALL},
    # notification: the delivery log; a member unit sees what was sent to it
    ("notification", "GET", "/api/deliveries"): {**_READ_CLUES, MEMBER_UNIT: SELF},
    # notification: everyone reads their own inbox; a street's office runs its street's outbound
    # deliveries, e-mail contacts and agency subscriptions; the district office any street's
    ("notification", "GET", "/api/inbox"): {
        GRID_STAFF: SELF, COMMUNITY_OFFICE: SELF, STREET_OFFICE: SELF, DISTRICT_OFFICE: SELF, MEMBER_UNIT: SELF,
        AUDITOR: SELF,
    },
    ("notification", "GET", "/api/notification/outbox"): {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL, AUDITOR: ALL},
    ("notification", "PUT", "/api/notification/contacts/<id>"): {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL},
    ("notification", "POST", "/api/subscriptions"): {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL},
    ("notification", "GET", "/api/subscriptions"): {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL, AUDITOR: ALL},
    ("notification", "DELETE", "/api/subscriptions/<id>"): {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL},
    # roster: everyone who works a street reads its roster (the tree, who is responsible, routing);
    # its office keeps it (imports and changes: its own street only), the district office any street;
    # the export (names and work phones of a whole street) is for the offices and the auditor
    ("roster", "POST", "/api/roster/import"): _STREET_OFFICES,
    ("roster", "GET", "/api/roster/streets/<id>/export"): {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL, AUDITOR: ALL},
    ("roster", "GET", "/api/roster/streets/<id>/tree"): _READ_LEDGERS,
    ("roster", "GET", "/api/roster/streets/<id>/responsible"): _READ_LEDGERS,
    ("roster", "GET", "/api/roster/route"): _READ_LEDGERS,
    ("roster", "POST", "/api/roster/streets/<id>/grids/<id>/chief"): _STREET_OFFICES,
    ("roster", "POST", "/api/roster/streets/<id>/grids/<id>/vacancy"): _STREET_OFFICES,
    ("roster", "POST", "/api/roster/streets/<id>/member-units"): _STREET_OFFICES,
    ("roster", "POST", "/api/roster/streets/<id>/member-units/<id>/sectors"): _STREET_OFFICES,
    ("roster", "POST", "/api/roster/streets/<id>/people/<id>/roles"): _STREET_OFFICES,
    ("roster", "POST", "/api/roster/streets/<id>/people/<id>/roles/end"): _STREET_OFFICES,
    ("roster", "PUT", "/api/roster/streets/<id>/leading-group"): _STREET_OFFICES,
    # escalation: the grid works its cases up the levels; community roles only at levels 3 and 2
    # (services/escalation/scoping.py); member units read the cases and enterprises of their streets
    ("escalation", "GET", "/api/cases/<id>"): _READ_LEDGERS,
    ("escalation", "GET", "/api/cases"): _READ_LEDGERS,
    ("escalation", "POST", "/api/cases/<id>/<action>"): _WORK_CASES,
    ("escalation", "GET", "/api/obligations"): _READ_CLUES,
    ("escalation", "POST", "/api/obligations/<id>/submission"): {
        GRID_STAFF: COMMUNITY, COMMUNITY_OFFICE: COMMUNITY, STREET_OFFICE: STREET},
    ("escalation", "GET", "/api/campaigns"): _READ_CLUES,
    ("escalation", "POST", "/api/campaigns"): _STREET_OFFICES,
    ("escalation", "GET", "/api/enterprises"): _READ_LEDGERS,
    ("escalation", "GET", "/api/enterprises/<code>"): _READ_LEDGERS,
    ("escalation", "POST", "/api/enterprises"): _STREET_OFFICES,
    ("escalation", "POST", "/api/enterprises/<code>/<what>"): _STREET_OFFICES,
    ("escalation", "POST", "/api/risk/screen"): _WORK_CASES,  # a preview: records nothing
    ("escalation", "GET", "/api/risk/indicators"): _READ_LEDGERS,
    ("escalation", "GET", "/api/assessment"): {STREET_OFFICE: STREET, DISTRICT_OFFICE: ALL, AUDITOR: ALL},
    # console (web pages): anyone who works a street's clues may open it; every page forwards the
    # person's token to the services above, whose entries decide what each page shows and does
    ("console", "GET", "/"): _READ_LEDGERS,
    ("console", "GET", "/clues/new"): {GRID_STAFF: COMMUNITY, COMMUNITY_OFFICE: COMMUNITY, STREET_OFFICE: STREET},
    ("console", "POST", "/clues"): {GRID_STAFF: COMMUNITY, COMMUNITY_OFFICE: COMMUNITY, STREET_OFFICE: STREET},
    ("console", "POST", "/api/risk-preview"): _WORK_CASES,
    ("console", "GET", "/cases/<id>"): _READ_LEDGERS,
    ("console", "POST", "/cases/<id>/<action>"): _WORK_CASES,
    ("console", "GET", "/ledgers"): _READ_LEDGERS,
    ("console", "GET", "/ledgers/<ledger>"): _READ_LEDGERS,
    ("console", "GET", "/ledgers/<ledger>/export"): _READ_LEDGERS,
    ("console", "GET", "/statistics"): _READ_LEDGERS,
    ("console", "GET", "/statistics/<table>"): _READ_LEDGERS,
    ("console", "GET", "/statistics/<table>/export"): _READ_LEDGERS,
    ("console", "GET", "/ten-ones"): _READ_LEDGERS,
    ("console", "GET", "/roster"): _READ_LEDGERS,
}

# Answer without a token, on every service: liveness and Prometheus scraping (ops).
PUBLIC: frozenset[tuple[str, str]] = frozenset({("GET", "/health"), ("GET", "/metrics")})

# The console's sign-in pages answer without a token (there is none yet); nothing else does.
CONSOLE_PUBLIC: frozenset[tuple[str, str]] = frozenset({("GET", "/login"), ("POST", "/login"), ("POST", "/logout")})

# Services whose endpoints are not enforced yet (being extended in parallel). Remove a service
# from here once its endpoints apply `Access` scoping: tests/contract/test_access_policy.py then
# requires a POLICY entry for each of its routes.
PENDING_SERVICES: frozenset[str] = frozenset()


def scope_for(service: str, method: str, route: str, role: str) -> Scope | None:
    """The scope `role` has on this route, or None: denied."""
    entry = POLICY.get((service, method.upper(), route))
    return entry.get(role) if entry is not None else None


def enforced(service: str) -> bool:
    return service not in PENDING_SERVICES
