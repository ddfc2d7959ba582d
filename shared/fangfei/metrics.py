"""Every platform metric, declared once, each with why it exists (docs/operations.md lists them).

Labels never carry a person, a clue id or any other unbounded or personal value."""

from prometheus_client import Counter, Gauge, Histogram

# --- event store and relay (R3: every stored event is eventually published)
EVENTS_APPENDED = Counter("fangfei_events_appended_total", "Events committed to a service's store", ["service", "type"])
EVENTS_PUBLISHED = Counter("fangfei_events_published_total", "Events the relay published to Kafka", ["service", "topic"])
STORE_HEAD = Gauge("fangfei_store_head_position", "Highest commit position handed out by the store", ["service"])
RELAY_POSITION = Gauge("fangfei_relay_position", "Last commit position the relay has published", ["service"])
RELAY_BACKLOG = Gauge("fangfei_relay_backlog_commits", "Commits stored but not yet published", ["service"])
RELAY_GAPS = Counter("fangfei_relay_gaps_skipped_total", "Burned positions the relay skipped after the grace period", ["service"])
RELAY_ERRORS = Counter("fangfei_relay_errors_total", "Relay rounds that failed (broker unreachable, timeouts)", ["service"])
BROKER_CHANGES = Counter(
    "fangfei_broker_epoch_changes_total", "Times a new broker (cluster id) was seen: relay republishes", ["service", "role"]
)

GROUP_REJOINS = Counter(
    "fangfei_consumer_group_rejoins_total",
    "Times a consumer had no partitions long after joining its group and started over with a new member",
    ["service"],
)

# --- consumers (R4, R6, R7)
CONSUMED = Counter(
    "fangfei_consumer_messages_total",
    "Messages a consumer group handled, by outcome: applied, duplicate, unhandled, dead_lettered",
    ["service", "topic", "outcome"],
)
RETRIES = Counter("fangfei_consumer_retries_total", "Handler retries after a failure", ["service", "type"])
DEAD_LETTERS = Counter("fangfei_dead_letters_total", "Messages parked on a dead-letter topic", ["service", "topic"])
STREAM_GAPS = Counter(
    "fangfei_consumer_stream_gaps_total", "Events that arrived with a version gap in their stream (stalled)", ["service"]
)
CONSUMER_LAG = Gauge("fangfei_consumer_lag_messages", "High-water mark minus position", ["service", "topic", "partition"])
HANDLER_SECONDS = Histogram(
    "fangfei_consumer_handler_seconds", "Time to apply one event", ["service", "type"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
)

# --- HTTP
HTTP_REQUESTS = Counter("fangfei_http_requests_total", "HTTP requests", ["service", "route", "method", "status"])
HTTP_SECONDS = Histogram(
    "fangfei_http_request_seconds", "HTTP request latency", ["service", "route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

# --- domain SLA metrics (escalation). Updated only where a fact is first recorded (the command
# that appends it), never by handlers that run again in a replay or rebuild. Labels: street and
# grid level only; never a person, a clue or a case.
REGISTRATION_BUCKETS = (900, 1800, 3600, 7200, 10800, 12600, 14400, 18000, 21600, 43200, 86400)  # 14400 = 4 h
CLUES_REGISTERED = Counter(
    "fangfei_clues_registered_total", "Clues registered, by whether within the 4-hour rule", ["street", "outcome"]
)  # outcome: on_time | late
REGISTRATION_SECONDS = Histogram(
    "fangfei_clue_registration_seconds", "Time from a clue being found to its registration", ["street"],
    buckets=REGISTRATION_BUCKETS,
)
CLUES_UNREGISTERED_OVERDUE = Gauge(
    "fangfei_clues_unregistered_overdue", "Clues past their 4-hour deadline and still not registered", ["street"]
)
LEVEL_SECONDS = Histogram(
    "fangfei_case_level_seconds", "Time a case spent at one grid level before it moved on or closed",
    ["street", "level"], buckets=(3600, 14400, 43200, 86400, 172800, 259200, 604800),
)
CASES_OPEN = Gauge("fangfei_cases_open", "Open cases by the level now responsible", ["street", "level"])
CASES_OVERDUE = Gauge("fangfei_cases_overdue", "Open cases past a deadline, by level", ["street", "level"])
SLA_BREACHES = Counter("fangfei_sla_breaches_total", "Deadlines breached", ["street", "level", "rule"])
SLA_WARNINGS = Counter("fangfei_sla_warnings_total", "Warnings sent before a deadline (75%)", ["street", "level", "rule"])
OBLIGATIONS = Counter(
    "fangfei_report_obligations_total", "Report obligations settled, by outcome", ["street", "kind", "outcome"]
)  # kind: weekly | monthly | sweep | campaign; outcome: on_time | late | missed
CROSS_STREET_FLAGS = Counter(
    "fangfei_cross_street_flags_total", "Enterprises (by credit code) reported in more than one street", ["street"]
)
DISPOSALS = Counter("fangfei_case_disposals_total", "Disposal decisions recorded, by class", ["street", "disposal"])

# --- platform metrics the dashboards and alert rules also chart (issue 7). Declared here; each is
# updated where its comment says.
NOTIFICATION_DELIVERIES = Counter(
    "fangfei_notification_deliveries_total", "Notification deliveries attempted, by channel and outcome",
    ["channel", "outcome"],
)  # channel: inbox | email | sms | webhook | topic; outcome: delivered | failed | dead_lettered.
# Updated by notification's channel workers when a delivery is first recorded, fails or is parked,
# never by a replay.
PROJECTION_LAG = Gauge(
    "fangfei_projection_lag_seconds",
    "Seconds from the newest applied event's recording to its application by this consumer", ["service", "topic"],
)  # updated by the consumer entrypoint after each applied event
