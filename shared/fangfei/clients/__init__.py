"""Command-line clients of the services' HTTP APIs (no service code is imported here)."""
