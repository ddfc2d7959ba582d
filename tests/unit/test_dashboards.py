"""Every Grafana dashboard charts metrics the services really export, with labels they really carry.

A panel whose query names a metric nobody exports, a label the metric does not have, or a histogram
bucket that does not exist shows "No data" instead of failing: ops would trust an empty chart. These
tests read infra/grafana/dashboards/*.json, take every PromQL query apart and check it against
shared/fangfei/metrics.py, the default process collectors, Prometheus' own series (`up`, `ALERTS`)
and the recording rules in infra/prometheus/rules. The helpers are also used by
test_alert_rules.py for the rules' own expressions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.utils import floatToGoString

from fangfei import metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "infra/grafana/dashboards"
RULES = ROOT / "infra/prometheus/rules"

# Series Prometheus itself makes: `up` per scrape target, `ALERTS` per pending/firing alert.
PROMETHEUS_SERIES = {"up": set(), "ALERTS": None}  # None: any label (alerts carry their own labels)
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
            "group_right", "inf", "nan", "atan2"}
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
SELECTOR = re.compile(r"(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{(?P<matchers>[^}]*)\}")
MATCHER = re.compile(
    r"""\s*(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*(?P<value>"(?:[^"\\]|\\.)*"|'[^']*')\s*,?"""
)
IDENT = re.compile(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*")  # not the unit of `1h` or `1e3`


# -- what exists ----------------------------------------------------------------------------------
def _target_labels() -> set[str]:
    """Labels Prometheus adds to every scraped series (job, instance, and the static `service`)."""
    config = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text(encoding="utf-8"))
    labels = {"job", "instance"}
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            labels |= set(static.get("labels", {}))
    return labels


def declared_metrics() -> dict[str, MetricWrapperBase]:
    """Every metric object declared in fangfei.metrics, by its base name."""
    return {obj._name: obj for obj in vars(metrics).values() if isinstance(obj, MetricWrapperBase)}


def exposed_series() -> dict[str, set[str] | None]:
    """Series name -> label names (without target labels) for everything a service's /metrics can
    show: the declared metrics with their type suffixes, the default process/python collectors."""
    out: dict[str, set[str] | None] = {}
    for base, obj in declared_metrics().items():
        labels = set(obj._labelnames)
        if isinstance(obj, Counter):
            out[base + "_total"] = labels
        elif isinstance(obj, Histogram):
            out[base + "_bucket"] = labels | {"le"}
            out[base + "_sum"] = labels
            out[base + "_count"] = labels
        elif isinstance(obj, Gauge):
            out[base] = labels
        else:  # pragma: no cover - a new metric type needs a decision here
            raise AssertionError(f"metric type of {base} not handled")
    for family in REGISTRY.collect():
        if not family.name.startswith("fangfei_"):
            for sample in family.samples:
                out.setdefault(sample.name, set(sample.labels))
    return out


def recording_rules() -> dict[str, set[str]]:
    """Recorded series name -> the labels its expression keeps (its outer `by (...)`)."""
    out: dict[str, set[str]] = {}
    for path in sorted(RULES.glob("*.yml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    by = re.search(r"\bby\s*\(([^)]*)\)", rule["expr"])
                    assert by, f"recording rule {rule['record']} must aggregate `by (...)` so its labels are known"
                    out[rule["record"]] = {label.strip() for label in by.group(1).split(",") if label.strip()}
    return out


def known_series() -> dict[str, set[str] | None]:
    """Everything a query may name, with the labels it may use (None: any)."""
    target = _target_labels()
    known: dict[str, set[str] | None] = {}
    for name, labels in exposed_series().items():
        known[name] = None if labels is None else labels | target
    for name, labels in PROMETHEUS_SERIES.items():
        known[name] = None if labels is None else labels | target
    known.update(recording_rules())
    return known


# -- taking PromQL apart --------------------------------------------------------------------------
@dataclass
class Query:
    """What one PromQL expression refers to."""

    expr: str
    metrics: set[str] = field(default_factory=set)
    selectors: list[tuple[str | None, dict[str, tuple[str, str]]]] = field(default_factory=list)
    grouping_labels: set[str] = field(default_factory=set)


def parse_promql(expr: str) -> Query:
    """Metric names, selectors (name, {label: (op, value)}) and grouping labels of `expr`.

    Not a full parser: enough for the queries in this repository (selectors, functions,
    aggregations with by/without, binary operators with on/ignoring, ranges and offsets, and
    Grafana's $variables)."""
    query = Query(expr)
    text = re.sub(r"\[[^\]]*\]", " ", expr)  # ranges and subqueries, including [$__range]
    for match in SELECTOR.finditer(text):
        matchers: dict[str, tuple[str, str]] = {}
        for m in MATCHER.finditer(match["matchers"]):
            matchers[m["label"]] = (m["op"], m["value"][1:-1])
        leftover = MATCHER.sub("", match["matchers"]).strip()
        assert not leftover, f"cannot read the matchers {match['matchers']!r} in {expr!r}"
        name = match["name"] if match["name"] not in KEYWORDS else None
        query.selectors.append((name, matchers))
    text = SELECTOR.sub(lambda m: f" {m['name'] or ''} ", text)
    for match in GROUPING.finditer(text):
        query.grouping_labels |= {label.strip() for label in match.group(2).split(",") if label.strip()}
    text = GROUPING.sub(" ", text)
    text = re.sub(r"\$\{?\w+\}?", " ", text)  # Grafana variables outside strings
    for match in IDENT.finditer(text):
        word = match.group(0)
        following = text[match.end():].lstrip()
        if word in KEYWORDS or following.startswith("("):
            continue
        query.metrics.add(word)
    query.metrics |= {name for name, _ in query.selectors if name}
    return query


def check_query(expr: str, known: dict[str, set[str] | None]) -> list[str]:
    """Problems with `expr`: unknown metrics, labels the metrics do not carry, absent buckets."""
    problems: list[str] = []
    query = parse_promql(expr)
    if not query.metrics:
        problems.append(f"no metric in {expr!r}")
    unknown = sorted(m for m in query.metrics if m not in known)
    problems += [f"unknown metric {m} in {expr!r}" for m in unknown]
    usable: set[str] = set()
    for m in query.metrics:
        labels = known.get(m, set())
        if labels is None:
            return problems  # e.g. ALERTS: any label
        usable |= labels
    for name, matchers in query.selectors:
        allowed = usable if name is None else (known.get(name) or set())
        for label, (op, value) in matchers.items():
            if label not in allowed:
                problems.append(f"{name or 'selector'} has no label {label!r} in {expr!r}")
            if label == "le" and name and name.endswith("_bucket"):
                problems += _check_bucket(name, op, value, expr)
    problems += [f"grouping by {label!r}, which none of {sorted(query.metrics)} carries, in {expr!r}"
                 for label in sorted(query.grouping_labels - usable)]
    return problems


def _check_bucket(series: str, op: str, value: str, expr: str) -> list[str]:
    """`le` must name a bucket exactly as prometheus_client writes it (14400 -> "14400.0")."""
    histogram = declared_metrics().get(series.removesuffix("_bucket"))
    if not isinstance(histogram, Histogram):
        return [f"{series} is not a declared histogram in {expr!r}"]
    bounds = [floatToGoString(b) for b in histogram._upper_bounds]
    if op == "=" and value not in bounds:
        return [f'{series}{{le="{value}"}} matches no bucket (exposed: {bounds}) in {expr!r}']
    return []


# -- the dashboards -------------------------------------------------------------------------------
def _dashboards() -> list[Path]:
    return sorted(DASHBOARDS.glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # collapsed rows keep their panels inside


def _exprs(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in _panels(dashboard):
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def _datasource_uid() -> str:
    path = ROOT / "infra/grafana/provisioning/datasources/prometheus.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["datasources"][0]["uid"]


def test_the_three_dashboards_are_provisioned() -> None:
    titles = {_load(p)["title"] for p in _dashboards()}
    assert {"Fangfei platform", "Fangfei SLA 街道时限", "Fangfei escalation 分级处置漏斗"} <= titles, titles
    uids = [_load(p)["uid"] for p in _dashboards()]
    assert len(uids) == len(set(uids)), f"dashboard uids must be unique: {uids}"


@pytest.mark.parametrize("path", _dashboards(), ids=lambda p: p.name)
def test_every_panel_queries_the_provisioned_datasource(path: Path) -> None:
    dashboard = _load(path)
    uid = _datasource_uid()
    ids = [panel["id"] for panel in _panels(dashboard)]
    assert len(ids) == len(set(ids)), f"{path.name}: panel ids repeat: {ids}"
    for panel in _panels(dashboard):
        if panel.get("type") == "row":
            continue
        assert panel.get("targets"), f"{path.name}: panel {panel['title']!r} has no query"
        assert panel.get("description"), f"{path.name}: panel {panel['title']!r} needs a description for ops"
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, f"{path.name}: panel {panel['title']!r} is wider than the grid"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == uid, f"{path.name}: {panel['title']!r} is not on {uid}"


@pytest.mark.parametrize("path", _dashboards(), ids=lambda p: p.name)
def test_every_query_uses_exported_metrics_and_their_labels(path: Path) -> None:
    known = known_series()
    problems = [f"{title}: {p}" for title, expr in _exprs(_load(path)) for p in check_query(expr, known)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", _dashboards(), ids=lambda p: p.name)
def test_template_variables_list_labels_that_exist(path: Path) -> None:
    known = known_series()
    for variable in _load(path)["templating"]["list"]:
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        match = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", query)
        assert match, f"{path.name}: {variable['name']} should be label_values(metric, label), got {query!r}"
        metric, label = match.groups()
        assert metric in known, f"{path.name}: variable {variable['name']} reads unknown metric {metric}"
        assert label in (known[metric] or set()), f"{path.name}: {metric} has no label {label}"


COVERAGE = {
    "fangfei-sla.json": {
        "fangfei_clues_registered_total", "fangfei_clue_registration_seconds_bucket",
        "street:fangfei_clue_registration_late:ratio_rate1h", "fangfei_clues_unregistered_overdue",
        "fangfei_cases_overdue", "fangfei_report_obligations_total", "fangfei_cross_street_flags_total",
        "fangfei_case_disposals_total",
    },
    "fangfei-escalation.json": {
        "fangfei_cases_open", "fangfei_case_level_seconds_bucket", "fangfei_cases_overdue",
        "fangfei_sla_breaches_total", "fangfei_sla_warnings_total",
    },
    "fangfei-platform.json": {
        "up", "fangfei_http_request_seconds_bucket", "fangfei_http_requests_total",
        "fangfei_events_appended_total", "fangfei_events_published_total", "fangfei_relay_backlog_commits", "fangfei_consumer_lag_messages",
        "fangfei_dead_letters_total", "fangfei_projection_lag_seconds", "fangfei_notification_deliveries_total",
        "process_resident_memory_bytes",
    },
}


@pytest.mark.parametrize("name", sorted(COVERAGE))
def test_each_dashboard_charts_what_ops_watch(name: str) -> None:
    used: set[str] = set()
    for _, expr in _exprs(_load(DASHBOARDS / name)):
        used |= parse_promql(expr).metrics
    missing = COVERAGE[name] - used
    assert not missing, f"{name} does not chart {sorted(missing)}"


def test_sla_view_breaks_down_by_street() -> None:
    dashboard = _load(DASHBOARDS / "fangfei-sla.json")
    assert [v["name"] for v in dashboard["templating"]["list"]] == ["street"]
    for title, expr in _exprs(dashboard):
        assert 'street=~"$street"' in expr, f"SLA panel {title!r} ignores the street selector: {expr}"


def test_registration_histogram_has_a_bucket_exactly_at_the_4_hour_deadline() -> None:
    """Without it, 'registered within 4 h' from the histogram returns nothing at all."""
    bounds = [floatToGoString(b) for b in metrics.REGISTRATION_SECONDS._upper_bounds]
    assert "14400.0" in bounds, bounds


# -- the PromQL reader itself ---------------------------------------------------------------------
def test_reader_finds_metrics_labels_and_buckets() -> None:
    q = parse_promql(
        "sum by (street) ("
        'rate(fangfei_clue_registration_seconds_bucket{le="14400.0",street=~"$street"}[$__range]))'
        " / on (street) sum by (street) (rate(fangfei_clue_registration_seconds_count[5m])) > bool 0.5"
        ' unless up{job="fangfei"} offset 1h'
    )
    bucket, count = "fangfei_clue_registration_seconds_bucket", "fangfei_clue_registration_seconds_count"
    assert q.metrics == {bucket, count, "up"}
    assert q.grouping_labels == {"street"}
    assert (bucket, {"le": ("=", "14400.0"), "street": ("=~", "$street")}) in q.selectors


def test_reader_reports_what_would_chart_nothing() -> None:
    known = known_series()
    assert check_query("sum by (street) (fangfei_cases_open)", known) == []
    assert any("unknown metric fangfei_cases_opened" in p for p in check_query("fangfei_cases_opened", known))
    assert any("no label 'person'" in p for p in check_query('fangfei_cases_open{person="x"}', known))
    assert any("grouping by 'disposal'" in p for p in check_query("sum by (disposal) (fangfei_cases_open)", known))
    assert any("matches no bucket" in p
               for p in check_query('fangfei_clue_registration_seconds_bucket{le="14400"}', known))
