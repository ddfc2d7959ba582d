"""Webhook signatures (documented for agencies in docs/subscriptions.md):

    signed   = <X-Fangfei-Timestamp> + "." + <raw request body bytes>
    expected = "v1=" + hex(HMAC-SHA256(key = subscription secret (UTF-8), message = signed))

The receiver compares `X-Fangfei-Signature` with `expected` in constant time and refuses a
timestamp more than 5 minutes away from its clock (replay protection). The timestamp is signed
with the body, so neither can be changed alone; the delivery id header is also inside the body."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Fangfei-Signature"
TIMESTAMP_HEADER = "X-Fangfei-Timestamp"
DELIVERY_HEADER = "X-Fangfei-Delivery"
TOLERANCE_S = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), str(int(timestamp)).encode("ascii") + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float,
           tolerance_s: int = TOLERANCE_S) -> bool:
    """True when `signature` is ours for this body and timestamp, and the timestamp is recent."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature or "")
