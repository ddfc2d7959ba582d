"""Alertmanager tells the right people: SLA pages to the street's on-call contact, slow burns as
tickets, platform alerts to ops, and nothing falls through to nobody.

Routes are checked with `amtool config routes test` (Debian's `prometheus-alertmanager`, installed
by `make tools`); a missing amtool fails under CI and skips elsewhere, like promtool."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from tests.unit.test_alert_rules import ALERTS, require

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "infra/alertmanager/alertmanager.yml"

# Who hears about an alert, by its (category, severity) labels, for a street with its own
# receiver (longgang, the demo street) and for one without (the district covers it).
EXPECTED = {
    ("sla", "page", "longgang"): "street-longgang-oncall",
    ("sla", "page", "pingshan"): "district-oncall",
    ("sla", "ticket", "longgang"): "sla-tickets",
    ("sla", "ticket", "pingshan"): "sla-tickets",
    ("platform", "page", None): "ops-oncall",
    ("platform", "ticket", None): "ops-tickets",
}


def _config() -> dict[str, Any]:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


def routes_to(labels: dict[str, str]) -> str:
    """The receivers amtool resolves for an alert with `labels` (comma-separated)."""
    amtool = require("amtool")
    args = [amtool, "config", "routes", "test", f"--config.file={CONFIG}"]
    args += [f"{k}={v}" for k, v in labels.items()]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_config_is_valid() -> None:
    args = [require("amtool"), "check-config", str(CONFIG)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        ({"alertname": "ClueRegistrationBudgetBurn", "category": "sla", "severity": "page", "street": "longgang"},
         "street-longgang-oncall"),
        ({"alertname": "CasesOverdue", "category": "sla", "severity": "page", "street": "longgang", "level": "3"},
         "street-longgang-oncall"),
        ({"alertname": "CluesUnregisteredOverdue", "category": "sla", "severity": "page", "street": "pingshan"},
         "district-oncall"),
        ({"alertname": "CluesUnregisteredOverdue", "category": "sla", "severity": "page"}, "district-oncall"),
        ({"alertname": "ClueRegistrationBudgetSlowBurn", "category": "sla", "severity": "ticket",
          "street": "longgang"}, "sla-tickets"),
        ({"alertname": "ReportObligationsMissed", "category": "sla", "severity": "ticket", "street": "longgang",
          "kind": "weekly"}, "sla-tickets"),
        ({"alertname": "ServiceDown", "category": "platform", "severity": "page", "service": "ledger"},
         "ops-oncall"),
        ({"alertname": "ConsumerLagGrowing", "category": "platform", "severity": "ticket", "service": "ledger",
          "street": "longgang"}, "ops-tickets"),
        ({"alertname": "SomethingNew"}, "district-office"),
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}={v[k]}" for k in sorted(v) if k != "alertname"),
)
def test_routes(labels: dict[str, str], receiver: str) -> None:
    assert routes_to(labels) == receiver, f"{labels} went to {routes_to(labels)}, expected {receiver}"


@pytest.mark.parametrize("alert", sorted(ALERTS))
def test_every_alert_rule_reaches_its_people(alert: str) -> None:
    """Each rule's own labels, as Prometheus sends them, resolve to the receiver the table says."""
    labels = ALERTS[alert]["labels"]
    streets = ["longgang", "pingshan"] if labels["category"] == "sla" else [None]
    for street in streets:
        sent = {"alertname": alert, **{k: str(v) for k, v in labels.items()}}
        if street:
            sent["street"] = street
        assert routes_to(sent) == EXPECTED[(labels["category"], labels["severity"], street)], sent


def test_pages_are_grouped_by_street_and_platform_alerts_by_service() -> None:
    def walk(route: dict[str, Any], inherited: list[str]) -> list[tuple[list[str], list[str]]]:
        group_by = route.get("group_by", inherited)
        out = [(route.get("matchers", []), group_by)]
        for child in route.get("routes", []):
            out += walk(child, group_by)
        return out

    for matchers, group_by in walk(_config()["route"], []):
        text = " ".join(matchers)
        if 'category="sla"' in text:
            assert "street" in group_by, f"{matchers}: one street's page must not wait for or hide another's"
        if 'category="platform"' in text:
            assert "service" in group_by, f"{matchers}: group platform alerts by service"


def test_every_receiver_is_a_placeholder_on_the_compose_network() -> None:
    """No real address in the repository: receivers point at a gateway the deployment provides."""
    for receiver in _config()["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            host = urlparse(hook["url"]).hostname or ""
            assert host in {"localhost", "127.0.0.1"} or re.fullmatch(r"[a-z][a-z0-9-]*", host), (
                f"{receiver['name']}: {hook['url']} is not a localhost/compose placeholder"
            )


def test_each_street_receiver_is_routed() -> None:
    names = {r["name"] for r in _config()["receivers"]}
    for name in names:
        street = re.fullmatch(r"street-([a-z0-9-]+)-oncall", name)
        if street:
            assert routes_to({"category": "sla", "severity": "page", "street": street[1]}) == name
