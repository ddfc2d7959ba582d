"""Imports every producer's event module so that all types are registered exactly once."""

from . import escalation, intake, notification, roster  # noqa: F401
