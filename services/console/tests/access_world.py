"""The console's cells of the access-policy table (tests/contract/test_access_policy.py): one probe
per page route, tried by every role on our street and on another, with the fake services of
support.py scoping what they answer like the real ones.

A probe gets the world, the request headers (a Bearer token, or none) and the street to aim at; it
answers (status, page text). Redirects after a POST are followed (a form's answer is the page it
leads to)."""

from __future__ import annotations

from typing import Any, Callable

from .support import OTHER_COMMUNITY, OTHER_STREET, OWN_COMMUNITY, ConsoleWorld

Probe = Callable[[ConsoleWorld, dict[str, str], bool], tuple[int, str]]


def _open(world: ConsoleWorld, method: str, path: str, headers: dict[str, str], **kw: Any) -> tuple[int, str]:
    resp = world.app.client.open(path, method=method, headers=headers, follow_redirects=True, **kw)
    return resp.status_code, resp.get_data(as_text=True)


def _get(path: Callable[[bool], str]) -> Probe:
    return lambda world, headers, other: _open(world, "GET", path(other), headers)


def _street(other: bool) -> str:
    return OTHER_STREET if other else "longgang"


def report(world: ConsoleWorld, headers: dict[str, str], other: bool) -> tuple[int, str]:
    form = {"community_id": OTHER_COMMUNITY if other else OWN_COMMUNITY, "category": "illegal_finance",
            "source": "grid_patrol", "title": "保本理财", "description": "描述", "found_at": "2026-03-14T10:05"}
    if other:
        form["street_id"] = OTHER_STREET  # the street is the token's: a form naming one is refused
    return _open(world, "POST", "/clues", headers, data=form)


def act(world: ConsoleWorld, headers: dict[str, str], other: bool) -> tuple[int, str]:
    case = world.other if other else world.own
    return _open(world, "POST", f"/cases/{case}/close", headers, data={"reason": "已化解", "outcome": "resolved"})


def risk(world: ConsoleWorld, headers: dict[str, str], other: bool) -> tuple[int, str]:
    return _open(world, "POST", "/api/risk-preview", headers, json={"title": "保本高息"})


PROBES: dict[tuple[str, str], Probe] = {
    ("GET", "/"): _get(lambda other: f"/?street_id={_street(other)}"),
    ("GET", "/clues/new"): _get(lambda other: "/clues/new"),
    ("POST", "/clues"): report,
    ("POST", "/api/risk-preview"): risk,
    ("GET", "/cases/<id>"): _get(lambda other: f"/cases/{'other-1' if other else 'own-1'}"),
    ("POST", "/cases/<id>/<action>"): act,
    ("GET", "/ledgers"): _get(lambda other: "/ledgers"),
    ("GET", "/ledgers/<ledger>"): _get(lambda other: f"/ledgers/clue-verification?street_id={_street(other)}"),
    ("GET", "/ledgers/<ledger>/export"): _get(
        lambda other: f"/ledgers/clue-verification/export?format=csv&street_id={_street(other)}"),
    ("GET", "/statistics"): _get(lambda other: f"/statistics?street_id={_street(other)}"),
    ("GET", "/statistics/<table>"): _get(lambda other: f"/statistics/clue-screening?street_id={_street(other)}"),
    ("GET", "/statistics/<table>/export"): _get(
        lambda other: f"/statistics/clue-screening/export?format=csv&street_id={_street(other)}"),
    ("GET", "/ten-ones"): _get(lambda other: f"/ten-ones?street_id={_street(other)}"),
    ("GET", "/roster"): _get(lambda other: f"/roster?street_id={_street(other)}"),
}
