"""The alert rules in infra/prometheus are valid, unit-tested by promtool, and each one's `for:` is
pinned by a test that looks just before and just after it.

promtool comes from Debian's `prometheus` package (`make tools`). Without it these tests fail when
CI is set (a missing tool must not turn the rule tests green) and are skipped on a laptop."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.test_dashboards import check_query, known_series

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "infra/prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
TEST_FILES = sorted((PROMETHEUS / "tests").glob("*.yml"))
RUNBOOKS = ROOT / "docs/runbooks"
HAN = re.compile(r"[\u4e00-\u9fff]")


def require(tool: str) -> str:
    """Path of `tool`; fail under CI, skip elsewhere, when it is not installed."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed: run `make tools` (Debian: prometheus, prometheus-alertmanager)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def run(args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)


def _alerts() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    assert rule["alert"] not in out, f"alert {rule['alert']} is defined twice"
                    out[rule["alert"]] = {**rule, "_file": path.name}
    return out


def _alert_tests() -> list[dict[str, Any]]:
    cases = []
    for path in TEST_FILES:
        for test in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            cases += test.get("alert_rule_test", [])
    return cases


ALERTS = _alerts()


def _minutes(duration: str) -> int:
    match = re.fullmatch(r"(\d+)([smh])", duration)
    assert match, f"unexpected duration {duration!r}"
    value, unit = int(match[1]), match[2]
    assert unit != "s" or value % 60 == 0, f"`for: {duration}` is not whole minutes"
    return {"s": value // 60, "m": value, "h": value * 60}[unit]


# -- promtool -------------------------------------------------------------------------------------
def test_rule_files_are_valid() -> None:
    result = run([require("promtool"), "check", "rules", *map(str, RULE_FILES)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_is_valid_and_loads_the_rules() -> None:
    result = run([require("promtool"), "check", "config", str(PROMETHEUS / "prometheus.yml")])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in result.stdout, result.stdout


def test_rule_unit_tests_pass() -> None:
    result = run([require("promtool"), "test", "rules", *map(str, TEST_FILES)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("shift", [-1, +1], ids=["for-1m", "for+1m"])
@pytest.mark.parametrize("alert", sorted(ALERTS))
def test_the_for_period_of_each_alert_is_pinned_by_a_test(tmp_path: Path, alert: str, shift: int) -> None:
    """Moving an alert's `for:` by one minute either way must break its unit test: the tests
    look one evaluation before it has elapsed (silent) and exactly when it has (firing)."""
    promtool = require("promtool")
    copy = tmp_path / "prometheus"
    shutil.copytree(PROMETHEUS, copy)
    path = copy / "rules" / ALERTS[alert]["_file"]
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for group in doc["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                rule["for"] = f"{_minutes(rule['for']) + shift}m"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")

    tests = [p for p in sorted((copy / "tests").glob("*.yml"))
             if f"alertname: {alert}" in p.read_text(encoding="utf-8")]
    assert tests, f"no rule test mentions {alert}"
    result = run([promtool, "test", "rules", *map(str, tests)])
    assert result.returncode != 0, f"{alert} with `for:` moved by {shift}m still passes every rule test"
    output = result.stdout + result.stderr
    assert f"alertname: {alert}," in output, f"the failures do not name {alert}:\n{output}"


# -- what the rules say ---------------------------------------------------------------------------
@pytest.mark.parametrize("alert", sorted(ALERTS))
def test_each_alert_has_a_firing_and_a_silent_case(alert: str) -> None:
    cases = [c for c in _alert_tests() if c["alertname"] == alert]
    assert any(c.get("exp_alerts") for c in cases), f"no test shows {alert} firing"
    assert any(not c.get("exp_alerts") for c in cases), f"no test shows {alert} silent"


@pytest.mark.parametrize("alert", sorted(ALERTS))
def test_each_alert_is_routable_and_explained(alert: str) -> None:
    rule = ALERTS[alert]
    labels, annotations = rule.get("labels", {}), rule.get("annotations", {})
    assert labels.get("category") in {"sla", "platform"}, f"{alert}: category decides who is told"
    assert labels.get("severity") in {"page", "ticket"}, f"{alert}: severity is page or ticket"
    assert rule.get("for"), f"{alert}: needs a `for:` so one bad scrape does not page"
    for key in ("summary", "description"):
        text = annotations.get(key, "")
        assert HAN.search(text) and re.search(r"[A-Za-z]{3}", text), f"{alert}: {key} in Chinese and English"
    # absolute from one variable: Prometheus' runbook_base external label (tests/unit/test_compose.py)
    assert annotations.get("runbook_url") == "{{ $externalLabels.runbook_base }}/" + f"{alert}.md", (
        f"{alert}: runbook_url")
    runbook = RUNBOOKS / f"{alert}.md"
    assert runbook.is_file(), f"{alert}: docs/runbooks/{alert}.md does not exist"
    text = runbook.read_text(encoding="utf-8")
    assert text.startswith(f"# {alert}"), f"{runbook.name} must start with '# {alert}'"
    assert "/health" in text or "/metrics" in text, f"{runbook.name}: say how to check it on /health or /metrics"


def test_every_runbook_belongs_to_an_alert() -> None:
    orphans = {p.stem for p in RUNBOOKS.glob("*.md")} - set(ALERTS) - {"README"}
    assert not orphans, f"runbooks without an alert: {sorted(orphans)}"


@pytest.mark.parametrize("alert", sorted(a for a in ALERTS if ALERTS[a]["labels"]["category"] == "sla"))
def test_sla_alerts_carry_the_street_they_page(alert: str) -> None:
    fired = [a for c in _alert_tests() if c["alertname"] == alert for a in c.get("exp_alerts") or []]
    assert fired and all("street" in a["exp_labels"] for a in fired), (
        f"{alert} must keep the `street` label: Alertmanager routes SLA pages by street"
    )


def test_alerts_read_recorded_series_recorded_earlier_in_their_own_group() -> None:
    """Rules of one group run in order; across groups an alert would read the previous evaluation's
    ratio (and promtool would pass or fail depending on which group ran first)."""
    for path in RULE_FILES:
        recorded_anywhere = {r["record"] for g in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
                             for r in g["rules"] if "record" in r}
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            recorded_before: set[str] = set()
            for rule in group["rules"]:
                if "record" in rule:
                    recorded_before.add(rule["record"])
                    continue
                used = set(re.findall(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", rule["expr"]))
                where = "recorded in another group" if used & recorded_anywhere else "not recorded"
                assert used <= recorded_before, (
                    f"{rule['alert']} reads {sorted(used - recorded_before)}, not recorded before it in group "
                    f"{group['name']} ({where})"
                )


def test_rules_query_only_exported_metrics() -> None:
    known = known_series()
    problems = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule.get("record")
                problems += [f"{name}: {p}" for p in check_query(rule["expr"], known)]
    assert not problems, "\n".join(problems)


def test_burn_rate_thresholds_follow_the_99_percent_objective() -> None:
    """The page/ticket windows and factors of the 4-hour registration objective (SRE Workbook)."""
    page = re.sub(r"\s+", " ", ALERTS["ClueRegistrationBudgetBurn"]["expr"])
    ticket = re.sub(r"\s+", " ", ALERTS["ClueRegistrationBudgetSlowBurn"]["expr"])
    for window, factor in (("1h", "14.4"), ("5m", "14.4"), ("6h", "6"), ("30m", "6")):
        assert f"ratio_rate{window} > ({factor} * 0.01)" in page, f"page: {window} window at {factor}x"
    for window in ("3d", "6h"):
        assert f"ratio_rate{window} > (1 * 0.01)" in ticket, f"ticket: {window} window at 1x"
