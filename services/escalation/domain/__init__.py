"""Escalation rules with no I/O: deadlines and the case folded from its events."""
