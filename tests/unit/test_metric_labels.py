"""Label cardinality stays bounded, and docs/metrics.md describes exactly the declared metrics.

Every label value becomes a time series in Prometheus for as long as the process lives: a label
that takes a clue, case, person or event id grows without bound (and puts personal data into the
monitoring system). So every label name must be on an allow-list that says what bounds it, and a
scrape after real code paths must show no id-like value.

docs/metrics.md is generated from the registry: `.venv/bin/python -m tests.unit.test_metric_labels`
rewrites its generated part after a metric is added or changed."""

from __future__ import annotations

import ast
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from prometheus_client import Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.utils import floatToGoString
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from fangfei import metrics
from fangfei.events import new_event
from fangfei.http import api, json_response
from fangfei.testing.stores import memory_store

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs/metrics.md"
BEGIN, END = "<!-- metrics:begin (generated) -->", "<!-- metrics:end -->"

# Label names that name a person or a record: never a metric label, whatever the metric.
DENIED = {
    "person", "person_id", "clue", "clue_id", "case", "case_id", "event_id", "stream_id", "recipient",
    "recipient_id", "assignee", "reporter", "name", "phone", "id", "id_number", "user", "user_id", "actor",
    "delivery_id", "enterprise", "credit_code", "title", "address", "token", "idempotency_key",
}
# Every label in use, what its values are and what bounds them (docs/metrics.md lists these).
ALLOWED = {
    "service": ("intake · roster · escalation · ledger · notification · console", "the five services and the web console"),
    "type": ("an event type, e.g. `clue.reported`", "the event catalogue (fangfei.events registry)"),
    "topic": ("`<service>.events`", "one topic per producing service"),
    "partition": ("`0`…`N-1`", "FANGFEI_TOPIC_PARTITIONS (4 in compose)"),
    "outcome": ("per metric: `applied`/`duplicate`/`unhandled`/`dead_lettered`; `on_time`/`late`; "
                "`on_time`/`late`/`missed`; `delivered`/`failed`", "a fixed set per metric"),
    "route": ("the route template of `@api`, e.g. `/api/clues/<id>`",
              "literals in the code, never the request path"),
    "method": ("`GET`, `POST`, …", "HTTP methods"),
    "status": ("`200`, `404`, …", "HTTP status codes"),
    "role": ("`relay`, `consumer`", "two values"),
    "street": ("a street id, e.g. `longgang`", "the streets of the district (tens)"),
    "level": ("`1`, `2`, `3` (grid levels), `4` (district office)", "four values"),
    "rule": ("a deadline rule code", "the deadline rules of escalation"),
    "kind": ("`weekly`, `monthly`, `sweep`, `campaign`", "the report obligation kinds"),
    "disposal": ("a disposal class code", "the disposal vocabulary (fangfei.vocab)"),
    "channel": ("a delivery channel code, e.g. `inbox`", "DELIVERY_CHANNELS (fangfei.vocab)"),
}
# Which process exports each metric (the registry cannot say).
EVERY = "every service"
STORING = "every service that appends events (not ledger, which only reads)"
RELAYING = "every service whose store publishes (not ledger)"
CONSUMING = "every service that consumes topics (`@event_handler`)"
EXPORTED_BY = {
    "fangfei_events_appended": STORING,
    "fangfei_events_published": RELAYING,
    "fangfei_store_head_position": RELAYING,
    "fangfei_relay_position": RELAYING,
    "fangfei_relay_backlog_commits": RELAYING,
    "fangfei_relay_gaps_skipped": RELAYING,
    "fangfei_relay_errors": RELAYING,
    "fangfei_broker_epoch_changes": "every service with a relay (`role=relay`) or a consumer (`role=consumer`)",
    "fangfei_consumer_group_rejoins": CONSUMING,
    "fangfei_consumer_messages": CONSUMING,
    "fangfei_consumer_retries": CONSUMING,
    "fangfei_dead_letters": CONSUMING,
    "fangfei_consumer_stream_gaps": CONSUMING,
    "fangfei_consumer_lag_messages": CONSUMING,
    "fangfei_consumer_handler_seconds": CONSUMING,
    "fangfei_http_requests": EVERY,
    "fangfei_http_request_seconds": EVERY,
    "fangfei_clues_registered": "escalation",
    "fangfei_clue_registration_seconds": "escalation",
    "fangfei_clues_unregistered_overdue": "escalation",
    "fangfei_case_level_seconds": "escalation",
    "fangfei_cases_open": "escalation",
    "fangfei_cases_overdue": "escalation",
    "fangfei_sla_breaches": "escalation",
    "fangfei_sla_warnings": "escalation",
    "fangfei_report_obligations": "escalation",
    "fangfei_cross_street_flags": "escalation",
    "fangfei_case_disposals": "escalation",
    "fangfei_notification_deliveries": "notification",
    "fangfei_projection_lag_seconds": CONSUMING,
}
# Shapes of values that are ids or personal data, should one ever reach a label.
ID_LIKE = [
    re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I),  # uuid
    re.compile(r"[0-9a-f]{16,}", re.I),  # hex ids, hashes
    re.compile(r"[0-9A-HJKMNP-TV-Z]{26}"),  # ULID
    re.compile(r"1[3-9]\d[- ]?\d{4}[- ]?\d{4}"),  # mainland mobile number
    re.compile(r"\d{17}[\dX]"),  # resident ID number
    re.compile(r"[\u4e00-\u9fff]"),  # Chinese text: names, titles, addresses
]


def declared() -> dict[str, MetricWrapperBase]:
    return {obj._name: obj for obj in vars(metrics).values() if isinstance(obj, MetricWrapperBase)}


# -- bounded labels -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(declared()))
def test_no_metric_is_labelled_by_a_person_or_a_record(name: str) -> None:
    labels = set(declared()[name]._labelnames)
    assert not labels & DENIED, f"{name} is labelled by {sorted(labels & DENIED)}: unbounded and personal"


@pytest.mark.parametrize("name", sorted(declared()))
def test_every_label_is_known_to_be_bounded(name: str) -> None:
    unknown = set(declared()[name]._labelnames) - set(ALLOWED)
    assert not unknown, (
        f"{name} uses label(s) {sorted(unknown)}: add each to ALLOWED with its values and what bounds them, "
        "or use a bounded label instead"
    )


def _api_routes() -> list[tuple[str, int, ast.expr]]:
    """(file, line, route argument) of every `@api(SERVICE, route)` in the services, and of every
    console page (`@page_route(route)`, which wraps `api` with the console's own service name)."""
    out = []
    for path in sorted((ROOT / "services").glob("*/service.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "api":
                assert len(node.args) == 2, f"{path}:{node.lineno}: @api(service, route) takes two arguments"
                out.append((str(path.relative_to(ROOT)), node.lineno, node.args[1]))
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "page_route":
                out.append((str(path.relative_to(ROOT)), node.lineno, node.args[0]))
    return out


def test_route_labels_are_templates_written_in_the_code() -> None:
    """The `route` label is the second argument of `@api`: a literal template, so one series per
    route, never per request path (which would carry clue and case ids)."""
    routes = _api_routes()
    assert routes, "no @api endpoints found in services/*/service.py"
    for path, line, arg in routes:
        assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), (
            f"{path}:{line}: the route of @api must be a string literal (it becomes a metric label)"
        )
        for segment in arg.value.strip("/").split("/") if arg.value != "/" else []:
            assert re.fullmatch(r"[a-z][a-z0-9_-]*|<[a-z_]+>", segment), (
                f"{path}:{line}: route {arg.value!r} has segment {segment!r}; ids belong in <placeholders>"
            )


class _Endpoint:
    """A stand-in service: what matters here is the `@api` wrapper that records the metrics."""

    name = "intake"

    @api("intake", "/api/clues/<id>")
    def get_clue(self, request: Request, clue_id: str) -> Response:
        return json_response({"clue_id": clue_id})


def test_a_scrape_after_real_code_paths_shows_no_id_in_any_label() -> None:
    clue_id = "c-3f2a9d1e7b6c4a58"
    stream = f"street-{clue_id}"
    store = memory_store("roster")
    event = new_event("roster.street_registered", stream, "longgang", {"street_id": "longgang", "name": "测试街道"},
                      actor="user:p-0042", occurred_at=datetime(2026, 3, 14, 1, 0, tzinfo=timezone.utc))
    store.append(stream, 0, [event])
    request = Request(EnvironBuilder(method="GET", path=f"/api/clues/{clue_id}").get_environ())
    _Endpoint().get_clue(request, clue_id)

    families = {f.name: f for f in text_string_to_metric_families(generate_latest().decode())}
    appended = families["fangfei_events_appended"].samples
    assert any(s.labels == {"service": "roster", "type": "roster.street_registered"} for s in appended), appended
    routes = {s.labels["route"] for f in ("fangfei_http_requests", "fangfei_http_request_seconds")
              for s in families[f].samples if "route" in s.labels}
    assert "/api/clues/<id>" in routes, routes
    templates = {arg.value for _, _, arg in _api_routes() if isinstance(arg, ast.Constant)}
    assert routes <= templates, f"route labels that are not @api templates: {sorted(routes - templates)}"

    secrets = {clue_id, stream, event.event_id, "p-0042", "测试街道"}
    for family in families.values():
        if not family.name.startswith("fangfei_"):
            continue
        for sample in family.samples:
            for label, value in sample.labels.items():
                if label == "le":
                    continue
                assert label in ALLOWED, f"{sample.name} has label {label!r} outside the allow-list"
                assert not any(s in value for s in secrets), f"{sample.name}{{{label}={value!r}}} carries an id"
                assert not any(p.search(value) for p in ID_LIKE), (
                    f"{sample.name}{{{label}={value!r}}} looks like an id"
                )


# -- docs/metrics.md --------------------------------------------------------------------------------
def _kind(obj: MetricWrapperBase) -> str:
    for cls, kind in ((Counter, "counter"), (Histogram, "histogram"), (Gauge, "gauge")):
        if isinstance(obj, cls):
            return kind
    raise AssertionError(f"metric type of {obj._name} not handled")


def _series(obj: MetricWrapperBase) -> str:
    return obj._name + "_total" if isinstance(obj, Counter) else obj._name


def render_reference() -> str:
    """The generated part of docs/metrics.md: every declared metric, then every label."""
    lines = [
        BEGIN,
        "",
        "| metric | type | labels | meaning | exported by |",
        "|---|---|---|---|---|",
    ]
    for name, obj in declared().items():
        meaning = obj._documentation.rstrip(".")
        if isinstance(obj, Histogram):
            bounds = ", ".join(floatToGoString(b) for b in obj._upper_bounds if b != float("inf"))
            meaning += f"; buckets (`le`): {bounds}"
        labels = ", ".join(obj._labelnames)
        lines.append(f"| `{_series(obj)}` | {_kind(obj)} | {labels} | {meaning} | {EXPORTED_BY[name]} |")
    lines += ["", "| label | values | bounded by |", "|---|---|---|"]
    lines += [f"| `{label}` | {values} | {bound} |" for label, (values, bound) in ALLOWED.items()]
    lines += ["", END]
    return "\n".join(lines)


def _generated_part(text: str) -> str:
    assert BEGIN in text and END in text, f"docs/metrics.md must keep the markers {BEGIN} … {END}"
    return text[text.index(BEGIN):text.index(END) + len(END)]


def test_every_metric_says_which_service_exports_it() -> None:
    assert set(EXPORTED_BY) == set(declared()), (
        f"EXPORTED_BY is out of step with fangfei.metrics: missing {sorted(set(declared()) - set(EXPORTED_BY))}, "
        f"stale {sorted(set(EXPORTED_BY) - set(declared()))}"
    )


def test_metrics_reference_is_up_to_date() -> None:
    assert _generated_part(DOC.read_text(encoding="utf-8")) == render_reference(), (
        "docs/metrics.md is out of date: run `.venv/bin/python -m tests.unit.test_metric_labels`"
    )


def write_reference() -> None:
    text = DOC.read_text(encoding="utf-8")
    DOC.write_text(text.replace(_generated_part(text), render_reference()), encoding="utf-8")


if __name__ == "__main__":
    write_reference()
    sys.stdout.write(f"wrote {DOC.relative_to(ROOT)}\n")
