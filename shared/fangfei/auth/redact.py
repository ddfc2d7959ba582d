"""Keep tokens out of logs (P5, RFC 8725 §3.9): every log record of the process is scrubbed of
anything that looks like a JWT or a bearer credential before any handler formats it.

The HTTP access log of eventlet prints the request line with its query string; a client that puts
a token there (refused with 401) would otherwise leave it in the log."""

from __future__ import annotations

import logging
import re
from typing import Any

_PATTERNS = (
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),  # a JWS compact token
    re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"),
    re.compile(r"(?i)((?:access_token|id_token|token|jwt|authorization)=)[^&\s\"']+"),
)
REDACTED = "[redacted]"
_installed = False


def scrub(text: str) -> str:
    text = _PATTERNS[0].sub(REDACTED, text)
    text = _PATTERNS[1].sub(lambda m: m.group(1) + REDACTED, text)
    return _PATTERNS[2].sub(lambda m: m.group(1) + REDACTED, text)


def install() -> None:
    """Wrap the log record factory once per process so every record's message is scrubbed."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug; leave the record as it is
            return record
        clean = scrub(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(factory)
