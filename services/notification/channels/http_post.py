"""One JSON POST with a timeout (urllib, green under eventlet), shared by the SMS gateway and
webhooks: 2xx is success, 4xx (but 408/429) a permanent refusal, anything else retried."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Mapping

from .base import SendFailed


def post(url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> int:
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8", **headers})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
        permanent = 400 <= status < 500 and status not in (408, 425, 429)
        raise SendFailed(f"HTTP{status}", permanent=permanent) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise SendFailed(type(getattr(exc, "reason", exc)).__name__) from exc
