"""What an endpoint knows about its caller once the policy let the request in: the principal and
the scope of this route. Endpoints use it to scope what they read and write (S1: a street never
sees another street's data):

    access = access_of(request)                     # fangfei.http
    street = access.write_street()                  # the street of a command: from the token, never the body
    if row is None or not access.allows(row["street_id"], row["community_id"]):
        raise NotFound(...)                          # out of scope looks exactly like absent
    flt["street_id"] = access.list_street(args.get("street_id", ""))   # listings
"""

from __future__ import annotations

from dataclasses import dataclass

from .policy import Scope
from .principal import Principal


class Forbidden(Exception):
    """The caller may not do this (403). `code` is stable; `message` is for people."""

    def __init__(self, code: str, message: str = "无权访问") -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Access:
    principal: Principal
    scope: Scope

    @property
    def actor(self) -> str:
        return self.principal.actor

    def allows(self, street_id: str, community_id: str = "", person_id: str = "") -> bool:
        """May the caller see or touch a resource of this street / community / person?"""
        p = self.principal
        streets = p.street_set()
        in_street = streets is None or street_id in streets
        if self.scope is Scope.ALL:
            return True
        if self.scope is Scope.STREET:
            return bool(street_id) and in_street
        if self.scope is Scope.COMMUNITY:
            return bool(street_id) and in_street and bool(community_id) and community_id == p.community
        if self.scope is Scope.SELF:
            return bool(person_id) and person_id == p.subject and in_street
        return False

    def in_street(self, street_id: str) -> bool:
        """May the caller see a street-level resource (a street's grid tree, its routing)? Every
        scope but SELF reaches its whole street for those; a community's people need the tree too."""
        if self.scope is Scope.ALL:
            return True
        streets = self.principal.street_set()
        return bool(street_id) and (streets is None or street_id in streets) and self.scope is not Scope.SELF

    def write_street(self) -> str:
        """The street a command acts in: the token's one street. A caller with several streets
        or none (district-wide roles) cannot write street data through these routes."""
        p = self.principal
        streets = p.street_set()
        if streets is None or len(streets) != 1:
            raise Forbidden("no_single_street", "令牌未限定唯一街道，不能提交街道数据")
        return next(iter(streets))

    def check_community(self, community_id: str) -> None:
        """A command naming a community outside the caller's own is refused (COMMUNITY scope)."""
        if self.scope is Scope.COMMUNITY and community_id != self.principal.community:
            raise Forbidden("community_out_of_scope", "无权操作其他社区的数据")

    def list_street(self, requested: str) -> str:
        """The street a listing is filtered by. Street-bound callers get their own street when
        they name none, and a 403 when they name another; "" means any street (ALL only)."""
        streets = self.principal.street_set()
        if streets is None or self.scope is Scope.ALL:
            return requested
        if requested:
            if requested not in streets:
                raise Forbidden("street_out_of_scope", "无权查看其他街道的数据")
            return requested
        if len(streets) == 1:
            return next(iter(streets))
        raise Forbidden("street_required", "请指定街道（street_id）")

    def list_community(self, requested: str) -> str:
        """The community a listing is filtered by: forced to the caller's own in COMMUNITY scope."""
        if self.scope is not Scope.COMMUNITY:
            return requested
        if requested and requested != self.principal.community:
            raise Forbidden("community_out_of_scope", "无权查看其他社区的数据")
        return self.principal.community
