"""Small worlds for the access-control and fuzz tests: each service in-process (memory store, test
keys), holding one resource in our street (龙岗 longgang / 马岗 magang) and one in another street
(坪山 pingshan / ps-1), so every role × route can be tried on both."""

from __future__ import annotations

from typing import Any

from nameko.testing.services import worker_factory

from fangfei.roster_view import RosterReplica
from fangfei.testing.auth import test_gate
from fangfei.testing.stores import memory_store
from fangfei.testing.wsgi import ServiceApp
from services.intake.tests.support import REPORTER, Intake, valid_clue
from services.ledger.service import LedgerService
from services.ledger.tests.factories import case_opened as ledger_case, clue_reported
from services.notification.deliveries import DeliveryLog
from services.notification.service import NotificationService
from services.notification.tests.support import case_opened as notif_case, demo_roster, roster_event

OWN_STREET, OWN_COMMUNITY = "longgang", "magang"
OTHER_STREET, OTHER_COMMUNITY = "pingshan", "ps-1"
MEMBER_PERSON = "mu-police-01"


class World:
    app: ServiceApp
    own: str  # id of our street's resource
    other: str  # id of the other street's resource

    def records(self) -> Any:
        """A fingerprint of everything the service stored: must not change on a refused request."""
        db = self.store.db
        return {name: db[name].count_documents({}) for name in sorted(db.list_collection_names())}


class IntakeWorld(World):
    def __init__(self, **gate_kw: Any) -> None:
        self.intake = Intake(**gate_kw)
        self.app = ServiceApp(self.intake.svc)
        self.store = self.intake.store
        self.mint = self.intake.mint
        self.own_clue = self.intake.report(reporter=REPORTER)
        self.other_clue = self.intake.report(reporter=REPORTER, street=OTHER_STREET, community=OTHER_COMMUNITY,
                                             community_id=OTHER_COMMUNITY)

    def ids(self, kind: str) -> tuple[str, str]:
        key = "clue_id" if kind == "clue" else "reporter_id"
        return self.own_clue[key], self.other_clue[key]


class LedgerWorld(World):
    def __init__(self) -> None:
        gate, self.mint = test_gate()
        self.store = memory_store("ledger")
        svc = worker_factory(LedgerService, store=self.store, auth=gate)
        svc.on_clue_reported(clue_reported("own-1", street_id=OWN_STREET, community_id=OWN_COMMUNITY))
        svc.on_case_opened(ledger_case("own-1", street_id=OWN_STREET, community_id=OWN_COMMUNITY))
        svc.on_clue_reported(clue_reported("own-2", street_id=OWN_STREET, community_id="luogang"))
        svc.on_clue_reported(clue_reported("other-1", street_id=OTHER_STREET, community_id=OTHER_COMMUNITY))
        self.app = ServiceApp(svc)
        self.own, self.other = "own-1", "other-1"


class NotificationWorld(World):
    def __init__(self) -> None:
        gate, self.mint = test_gate()
        self.store = memory_store("notification")
        svc = worker_factory(NotificationService, store=self.store, roster=RosterReplica(self.store.db),
                             deliveries=DeliveryLog(self.store.db), auth=gate)
        for ev in demo_roster():
            svc.apply_roster_event(ev)
        svc.apply_roster_event(roster_event("roster.person_registered", f"person-{MEMBER_PERSON}",
                                            {"person_id": MEMBER_PERSON, "name": "派出所联络人01",
                                             "role": "member_unit_contact", "community_id": ""}))
        svc.notify_case_opened(notif_case("own01", assignee="p-zhang01"))
        svc.notify_case_opened(notif_case("own02", assignee=MEMBER_PERSON))
        svc.notify_case_opened(notif_case("oth01", assignee="p-other01", street_id=OTHER_STREET))
        self.app = ServiceApp(svc)
        self.own, self.other = "own01", "oth01"


def clue_body(**over: Any) -> dict[str, Any]:
    return valid_clue(**over)
