"""`GET /metrics`: the gauges the jobs set, and the requests, latencies, job runs and
queue, login failures and lockouts counted by every process (platform/metrics/), in
Prometheus' text format, for the operator's scraper only. No label carries a tenant, a
user, an email or a path parameter.

Protected by a bearer token (`AUDORA_METRICS_TOKEN`), compared in constant time; with no
token set the endpoint does not exist (404), so nothing is exposed by default.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from audora.platform.metrics.exposition import render_live
from audora.platform.metrics.gauges import read_gauges, render_prometheus
from audora.platform.runtime import Runtime

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    token = runtime.settings.metrics_token.get_secret_value()
    if not token:
        return PlainTextResponse("not found\n", status_code=404)
    offered = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(offered.encode(), token.encode()):
        return PlainTextResponse(
            "unauthorized\n", status_code=401, headers={"www-authenticate": "Bearer"}
        )
    body = render_prometheus(
        await read_gauges(runtime.redis, runtime.clock.now())
    ) + await render_live(runtime.redis)
    return Response(body, media_type=CONTENT_TYPE)
