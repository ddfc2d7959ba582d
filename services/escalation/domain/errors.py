"""Why a command on a case was refused, in words a grid chief understands."""

from __future__ import annotations


class WorkflowError(Exception):
    """Base of the domain's refusals; `code` is stable, `message` is Chinese."""

    code = "workflow_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class IllegalTransition(WorkflowError):
    """The action does not exist in the case's current state (e.g. registering a closed case)."""

    code = "illegal_transition"

    def __init__(self, message: str, status: str, action: str) -> None:
        super().__init__(message)
        self.status = status
        self.action = action


class CommandRefused(WorkflowError):
    """The action exists in this state but a rule forbids it now (extension after expiry…)."""

    code = "refused"


class InvalidCommand(WorkflowError):
    """The command lacks something it needs (a reason, 稳控措施, an outcome…)."""

    code = "invalid_command"
