"""Escalation rules with no I/O: the case workflow (state machine), SLA clocks and deadlines,
report obligations and risk enterprises. Imports no nameko, pymongo, kafka or marshmallow: the
handlers feed it recorded facts and record the changes it decides."""
