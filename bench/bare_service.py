"""The intake reference: a bare nameko HTTP endpoint that parses and validates a clue with the
very schema intake uses (`ReportClueRequest`, via the same `read_json` and `load`) and answers
201, storing and publishing nothing, with no metrics wrapper.

Run as the services are (`nameko run --config infra/nameko/config.yaml bench.bare_service:BareIntake`);
the gap between its throughput and intake's is what intake's own work costs: the idempotency
key, building and validating the event, the durable append, the relay and the metrics."""

from __future__ import annotations

import uuid

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from fangfei.http import HttpError, error_response, json_response, load, read_json
from services.intake.schemas import ReportClueRequest


class BareIntake:
    name = "bench_bare_intake"

    @http("POST", "/api/clues")
    def report_clue(self, request: Request) -> Response:
        try:
            load(ReportClueRequest(), read_json(request))
        except HttpError as err:
            return error_response(err)
        return json_response({"clue_id": uuid.uuid4().hex, "created": True}, 201)
