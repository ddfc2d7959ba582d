"""The compose stand-in for the on-call gateway: Alertmanager's default receiver that really receives.

Alertmanager posts every notification (infra/alertmanager/alertmanager.yml: /hooks/<receiver path>)
here; each alert in it is written as one line to stdout (`docker compose logs oncall-gateway`):

    alert receiver=ops-oncall status=firing alertname=ServiceDown service=ledger street=- summary="…"

A deployment replaces this service (same name, port 9095) with its SMS/IM bridge and ticket system,
or points the receivers' URLs at them. It also serves docs/runbooks (mounted read-only at
FANGFEI_RUNBOOKS_DIR) under /runbooks/<Alert>.md, so the alerts' runbook links work on the host
(FANGFEI_RUNBOOK_BASE_URL). Standard library only; listens on FANGFEI_GATEWAY_ADDRESS
(default 0.0.0.0:9095); GET /health answers 200."""

from __future__ import annotations

import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUNBOOK = re.compile(r"^/runbooks/([A-Za-z][A-Za-z0-9_-]{0,80})\.md$")
MAX_BODY = 1 << 20


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:300]


class Handler(BaseHTTPRequestHandler):
    server_version = "fangfei-oncall-gateway"

    def log_message(self, fmt: str, *args: object) -> None:  # requests are not worth a line each
        return

    def _answer(self, status: int, body: bytes = b"", content_type: str = "text/plain; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/health":
            return self._answer(200, b"ok\n")
        match = RUNBOOK.match(self.path)
        folder = os.environ.get("FANGFEI_RUNBOOKS_DIR", "/app/runbooks")
        path = os.path.join(folder, match[1] + ".md") if match else ""
        if not path or not os.path.isfile(path):
            return self._answer(404, b"not found\n")
        with open(path, "rb") as fh:
            return self._answer(200, fh.read(), "text/markdown; charset=utf-8")

    def do_POST(self) -> None:  # noqa: N802
        if not self.path.startswith("/hooks/"):
            return self._answer(404, b"not found\n")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._answer(413, b"too large\n")
        try:
            payload = json.loads(self.rfile.read(length) or b"null")
            alerts = payload["alerts"]
            receiver = payload.get("receiver", "?")
            if not isinstance(alerts, list) or not all(isinstance(a, dict) for a in alerts):
                raise TypeError("alerts must be a list of objects")
        except (ValueError, KeyError, TypeError, AttributeError):
            return self._answer(400, b"expected an Alertmanager webhook payload\n")
        for alert in alerts:
            labels = alert.get("labels") if isinstance(alert.get("labels"), dict) else {}
            annotations = alert.get("annotations") if isinstance(alert.get("annotations"), dict) else {}
            word = lambda value: _one_line(value).replace(" ", "_") or "-"  # noqa: E731
            # one line per alert, whatever the sender put in it (no forged lines from a label value)
            print(f"alert receiver={word(receiver)} path={word(self.path)} status={word(alert.get('status', '?'))} "
                  f"alertname={word(labels.get('alertname', '?'))} service={word(labels.get('service', '-'))} "
                  f"street={word(labels.get('street', '-'))} severity={word(labels.get('severity', '-'))} "
                  f"summary=\"{_one_line(annotations.get('summary', '')).replace(chr(34), chr(39))}\" "
                  f"runbook={word(annotations.get('runbook_url', '-'))}", flush=True)
        return self._answer(200, b"ok\n")


def main() -> int:
    host, _, port = os.environ.get("FANGFEI_GATEWAY_ADDRESS", "0.0.0.0:9095").rpartition(":")
    server = ThreadingHTTPServer((host or "0.0.0.0", int(port)), Handler)
    print(f"oncall-gateway (stand-in): logging Alertmanager notifications on {host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.exit(main())
