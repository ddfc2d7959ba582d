"""Who is calling: the verified claims of a token, as the policy and the endpoints use them."""

from __future__ import annotations

from dataclasses import dataclass

from .roles import DISTRICT_OFFICE, AUDITOR, MEMBER_UNIT, OPS


@dataclass(frozen=True)
class Principal:
    subject: str  # the person (roster person id): the actor of every command they send
    role: str
    street: str = ""
    community: str = ""
    streets: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    token_id: str = ""  # jti: what rate limits count against (never the token text)
    expires_at: int = 0

    @property
    def actor(self) -> str:
        """The envelope `actor` of events this person causes."""
        return self.subject

    @property
    def district_wide(self) -> bool:
        return self.role in (DISTRICT_OFFICE, AUDITOR, OPS)

    def street_set(self) -> frozenset[str] | None:
        """The streets this person works in; None = every street of the district."""
        if self.district_wide:
            return None
        if self.role == MEMBER_UNIT:
            return frozenset(self.streets)
        return frozenset((self.street,)) if self.street else frozenset()
