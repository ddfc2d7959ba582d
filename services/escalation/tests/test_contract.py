"""The domain's vocabulary equals the event contract's codes, the domain imports no
infrastructure, and `case.opened` is what the ledger and notification still consume."""

from __future__ import annotations

import subprocess
import sys

from fangfei.events import escalation as contract
from services.escalation.domain import deadlines, vocabulary
from services.escalation.domain.case import RULE_OF_STATUS


def test_every_code_the_domain_labels_is_in_the_contract_and_back() -> None:
    assert set(vocabulary.STATUS_LABELS) == set(contract.CASE_STATUSES)
    assert set(vocabulary.RULE_LABELS) == set(contract.SLA_RULES)
    assert set(vocabulary.AGENCY_LABELS) == set(contract.AGENCIES)
    assert set(vocabulary.DISPOSAL_LABELS) == set(contract.DISPOSALS)
    assert set(vocabulary.OUTCOME_LABELS) == set(contract.OUTCOMES)
    assert set(vocabulary.OBLIGATION_KIND_LABELS) == set(contract.OBLIGATION_KINDS)
    assert set(vocabulary.RISK_TAG_LABELS) == set(contract.RISK_TAGS)
    assert set(RULE_OF_STATUS.values()) <= set(deadlines.RULES)


def test_case_opened_keeps_its_v1_fields() -> None:
    assert set(contract.CaseOpenedV1().fields) == {
        "case_id", "clue_id", "community_id", "grid_id", "level", "assignee_person_id", "found_at",
        "register_deadline", "routing_note"}


def test_the_domain_imports_no_nameko_pymongo_kafka_or_marshmallow() -> None:
    code = (
        "import sys\n"
        "import services.escalation.domain.workflow, services.escalation.domain.sla\n"
        "import services.escalation.domain.obligations, services.escalation.domain.enterprise\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & {'nameko', 'pymongo', 'kafka', 'marshmallow', 'eventlet'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
