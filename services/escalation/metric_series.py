"""Create each street's domain metric series at zero as soon as the street becomes known.

A Prometheus counter series only exists once `.labels(...)` was called. Until then `rate()`,
`increase()` and the burn-rate ratios of the 4-hour objective return *nothing* for that street
(not zero), so the first late registration of a new street would not show as a rise and the
ratio panels would stay empty. Calling `.labels(...)` without `.inc()` exports the series at 0.

This never counts anything: it is safe to run on every roster event and every clue, on a replay
and after a restart (counting happens only where a fact is first appended, handlers.py).
Labels are streets and fixed vocabularies only (no person, clue or case ids).
"""

from __future__ import annotations

from fangfei import metrics
from fangfei.events.escalation import DISPOSALS, OBLIGATION_KINDS

from .domain.case import LEVEL_OF_STATUS

REGISTRATION_OUTCOMES = ("on_time", "late")
OBLIGATION_OUTCOMES = ("on_time", "late", "missed")
# (level, rule) pairs a breach or warning can carry: the registration rule runs at level 3, each
# handling status's review at its level.
SLA_SERIES = (("3", "registration"), ("3", "triage"), ("2", "level2_review"), ("1", "level1_review"),
              ("4", "district_review"))

_primed: set[str] = set()


def prime_street(street: str) -> None:
    """Export every series a dashboard or alert of this street queries, at 0 (once per process)."""
    if not street or street in _primed:
        return
    for outcome in REGISTRATION_OUTCOMES:
        metrics.CLUES_REGISTERED.labels(street, outcome)
    for kind in OBLIGATION_KINDS:
        for outcome in OBLIGATION_OUTCOMES:
            metrics.OBLIGATIONS.labels(street, kind, outcome)
    for level, rule in SLA_SERIES:
        metrics.SLA_BREACHES.labels(street, level, rule)
        metrics.SLA_WARNINGS.labels(street, level, rule)
    for disposal in DISPOSALS:
        metrics.DISPOSALS.labels(street, disposal)
    metrics.CROSS_STREET_FLAGS.labels(street)
    metrics.CLUES_UNREGISTERED_OVERDUE.labels(street)
    for level in sorted({str(lvl) for lvl in LEVEL_OF_STATUS.values()}):
        metrics.CASES_OPEN.labels(street, level)
        metrics.CASES_OVERDUE.labels(street, level)
    _primed.add(street)
