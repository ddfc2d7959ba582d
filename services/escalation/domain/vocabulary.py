"""What users read: the Chinese labels of the workflow's codes.

The codes themselves are the event contract (`fangfei.events.escalation`); a test keeps the two
in step. The labels live in `fangfei.vocab` (one vocabulary for the service, the console, the CLI and
the ledger); the domain knows them by these names."""

from __future__ import annotations

from fangfei.vocab import (
    AGENCIES as AGENCY_LABELS,
    BREACH_CONSEQUENCES as BREACH_CONSEQUENCE_LABELS,
    CASE_ACTIONS as ACTION_LABELS,
    CASE_LEVELS as LEVEL_LABELS,
    CASE_OUTCOMES as OUTCOME_LABELS,
    DISPOSALS as DISPOSAL_LABELS,
    DISTRICT_LEVEL,
    OBLIGATION_KINDS as OBLIGATION_KIND_LABELS,
    OBLIGATION_STATUSES as OBLIGATION_STATUS_LABELS,
    RISK_TAGS as RISK_TAG_LABELS,
    SLA_RULES as RULE_LABELS,
    WORKFLOW_STATUSES as STATUS_LABELS,
)

__all__ = ["ACTION_LABELS", "AGENCY_LABELS", "BREACH_CONSEQUENCE_LABELS", "DISPOSAL_LABELS", "DISTRICT_LEVEL",
           "LEVEL_LABELS", "OBLIGATION_KIND_LABELS", "OBLIGATION_STATUS_LABELS", "OUTCOME_LABELS", "RISK_TAG_LABELS",
           "RULE_LABELS", "STATUS_LABELS"]
