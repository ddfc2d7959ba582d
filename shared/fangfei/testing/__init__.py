"""Test support for the platform and its services: in-memory twins and contract suites."""
