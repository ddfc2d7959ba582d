"""Kafka plumbing: topic names, the outbox relay, and the nameko consumer entrypoint."""
