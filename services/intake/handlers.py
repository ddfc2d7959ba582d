"""Intake use cases: one function per command. No HTTP, no nameko here.

The caller (service.py) has already checked who is asking and in what scope; these functions get
the street and the actor as plain values, from the token, never from the request body."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from fangfei.clock import Clock, to_iso
from fangfei.eventstore.provider import ServiceStore
from fangfei.eventstore.store import ConcurrencyConflict
from fangfei.events import Event, new_event

from .schemas import FUTURE_TOLERANCE, NOT_IN_FUTURE
from .vault import OpenedIdentity, ReporterVault, VaultEntry, VaultUnavailable

IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1d2b8e-3c1a-4f6e-9a57-2b4f0d9c7e11")
REPORTER_NAMESPACE = uuid.UUID("3a7c1f0e-95d2-4b8e-8f61-0c2d4e6a9b13")
AUDIT_APPEND_ATTEMPTS = 5


class ClueRejected(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ClueAccepted:
    clue_id: str
    created: bool  # False when an idempotent retry found the clue already recorded
    event: Event


def clue_stream(clue_id: str) -> str:
    return f"clue-{clue_id}"


def reporter_stream(reporter_id: str) -> str:
    """The audit stream of one reporter identity: reads and the erasure, never the identity."""
    return f"reporter-{reporter_id}"


def new_clue_id(street_id: str, actor: str, idempotency_key: str | None) -> str:
    """A retried request with the same Idempotency-Key maps to the same clue (R2). The key is
    scoped to the person sending it, so one person's key can never name another's clue."""
    if idempotency_key:
        return uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{street_id}\x1f{actor}\x1f{idempotency_key}").hex
    return uuid.uuid4().hex


def reporter_id_for(clue_id: str) -> str:
    """The pseudonym of a clue's reporter: derived from the clue (so a retry finds the same vault
    entry), never from who they are (so two reports by one person are not linkable through it)."""
    return "rp-" + uuid.uuid5(REPORTER_NAMESPACE, clue_id).hex


def report_clue(
    store: ServiceStore, vault: ReporterVault | None, clock: Clock, command: Mapping[str, Any], street_id: str,
    actor: str, idempotency_key: str | None = None,
) -> ClueAccepted:
    """Record a clue; the 2xx answer is given only after the commit is durable (R1).

    A named reporter's identity is sealed in the vault first; the clue then carries only the
    pseudonymous reporter id. Without a master key an identified report is refused (503) rather
    than recorded without its reporter."""
    found_at: datetime = command["found_at"]
    if found_at > clock.now() + FUTURE_TOLERANCE:
        raise ClueRejected("found_at", NOT_IN_FUTURE)
    clue_id = new_clue_id(street_id, actor, idempotency_key)
    payload = {k: v for k, v in command.items() if k != "reporter"}
    identity = command.get("reporter")
    if identity:
        if vault is None or not vault.available:
            raise VaultUnavailable("no active data master key")
        payload["reporter_id"] = reporter_id_for(clue_id)
        vault.store(payload["reporter_id"], street_id, clue_id, identity, to_iso(clock.now()))
    payload["clue_id"] = clue_id
    payload["found_at"] = found_at.isoformat()
    payload["reported_by"] = actor
    event = new_event("clue.reported", clue_stream(clue_id), street_id, payload, actor=actor, occurred_at=clock.now())
    try:
        commit = store.append(clue_stream(clue_id), 0, [event])
    except ConcurrencyConflict:
        existing = store.events.read_stream(clue_stream(clue_id))
        return ClueAccepted(clue_id, False, existing[0])
    return ClueAccepted(clue_id, True, commit.events[0])


def get_clue(store: ServiceStore, clue_id: str) -> list[Event]:
    return store.events.read_stream(clue_stream(clue_id))


def _append_audit(store: ServiceStore, clock: Clock, entry: VaultEntry, type_: str, payload: dict[str, Any],
                  actor: str) -> Event:
    """Append to the reporter's audit stream at its current version, retrying a lost race: the
    audit record must exist before anything is disclosed or destroyed."""
    stream = reporter_stream(entry.reporter_id)
    for _ in range(AUDIT_APPEND_ATTEMPTS):
        version = store.events.stream_version(stream)
        event = new_event(type_, stream, entry.street_id, payload, actor=actor, occurred_at=clock.now())
        try:
            return store.append(stream, version, [event]).events[0]
        except ConcurrencyConflict:
            continue
    raise ConcurrencyConflict(stream, version, store.events.stream_version(stream))


def read_identity(
    store: ServiceStore, vault: ReporterVault, clock: Clock, entry: VaultEntry, reason: str, reference: str,
    actor: str, role: str,
) -> tuple[OpenedIdentity, Event]:
    """Disclose a reporter's identity to `actor`, recording `audit.identity_read` first. An erased
    identity is recorded as a read that disclosed nothing, and shows a tombstone."""
    opened = vault.open(entry.reporter_id)  # held in memory only until the audit record is durable
    if opened is None:  # located a moment ago, and vault entries are never deleted
        raise LookupError(entry.reporter_id)
    audit = _append_audit(store, clock, entry, "audit.identity_read", {
        "reporter_id": entry.reporter_id, "clue_id": entry.clue_id, "reason": reason, "reference": reference,
        "reader_role": role, "disclosed": opened.identity is not None,
    }, actor)
    return opened, audit


def erase_identity(
    store: ServiceStore, vault: ReporterVault, clock: Clock, entry: VaultEntry, reason: str, reference: str,
    actor: str,
) -> Event | None:
    """Erase a reporter's identity: record `reporter.identity_erased`, then destroy the key.

    Idempotent: a repeated erasure records nothing new (None) but still destroys the key, which
    also completes an erasure interrupted between the record and the destruction."""
    recorded = [e for e in store.events.read_stream(reporter_stream(entry.reporter_id))
                if e.type == "reporter.identity_erased"]
    event = None
    if not recorded:
        event = _append_audit(store, clock, entry, "reporter.identity_erased", {
            "reporter_id": entry.reporter_id, "clue_id": entry.clue_id, "reason": reason, "reference": reference,
        }, actor)
    vault.erase(entry.reporter_id, to_iso(clock.now()))
    return event


def audit_trail(store: ServiceStore, reporter_id: str) -> list[Event]:
    return store.events.read_stream(reporter_stream(reporter_id))


# -- typed ledger records (台账记录) -------------------------------------------------------------
RECORD_APPEND_ATTEMPTS = 5


class RecordRejected(ValueError):
    """A record update that may not be applied (another street's record, another type)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


@dataclass(frozen=True)
class RecordAccepted:
    record_id: str
    created: bool  # False: an update (a later version) of an existing record
    event: Event


def record(
    store: ServiceStore, clock: Clock, event_type: str, command: Mapping[str, Any], street_id: str, actor: str,
    allowed_community: str | None = None,
) -> RecordAccepted:
    """Record a typed ledger record, or a progress update of one (same `record_id`).

    An update appends the next version of the record's stream, so the ledger shows the latest
    state and the history stays in the log. An update must stay in the record's street (and, for
    a community-scoped caller, its community): otherwise it looks exactly like a missing record."""
    from fangfei.events.intake import record_stream

    record_id = command.get("record_id") or uuid.uuid4().hex
    stream = record_stream(event_type, record_id)
    payload = {k: v for k, v in command.items() if k != "record_id"}
    payload.update(record_id=record_id, recorded_by=actor)
    for _ in range(RECORD_APPEND_ATTEMPTS):
        existing = store.events.read_stream(stream)
        if existing:
            first = existing[0]
            if first.street_id != street_id or (
                allowed_community is not None and first.payload["community_id"] != allowed_community
            ):
                raise RecordRejected(404, "not_found", f"未找到：台账记录 {record_id}")
            if first.payload["community_id"] != payload["community_id"]:
                raise RecordRejected(400, "validation_failed", "更新记录不能改变所属社区")
        event = new_event(event_type, stream, street_id, payload, actor=actor, occurred_at=clock.now())
        try:
            commit = store.append(stream, len(existing), [event])
        except ConcurrencyConflict:
            continue
        return RecordAccepted(record_id, not existing, commit.events[0])
    raise ConcurrencyConflict(stream, len(existing), store.events.stream_version(stream))
