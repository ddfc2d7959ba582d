"""Access control of the platform: who is calling (tokens.py), what their role may do where
(policy.py), and the gate every secured HTTP request passes (gate.py). See docs/security.md."""

from .access import Access, Forbidden
from .gate import AuthProvider, Gate, RateLimited
from .policy import POLICY, PUBLIC, Scope, scope_for
from .principal import Principal
from .roles import ROLES
from .tokens import AuthError

__all__ = [
    "Access", "AuthError", "AuthProvider", "Forbidden", "Gate", "POLICY", "PUBLIC", "Principal", "ROLES",
    "RateLimited", "Scope", "scope_for",
]
