"""`POST /webhooks/meeting-bot`: the meeting-bot provider's events, Standard Webhooks
signed (`signatures.py`).

Answers: 202 an event acted on; 200 one acknowledged without acting (another type, an
unknown bot, a bot already past it, or a delivery id seen before); 400 missing or
malformed webhook headers or body; 401 a missing, wrong or stale signature; 404 when no
webhook secret is configured; 413 a body over 1 MiB. Errors are shaped as the GraphQL
ones: `{"errors": [{"message", "extensions": {"code"}}]}`.

Replays: each delivery id is remembered in Redis (SET NX) for a day, far longer than
the five minutes a delivery's timestamp stays acceptable, so a replayed id is
acknowledged without acting. The id is claimed after the signature and body check and
released again if acting on the event fails, so that the provider's retry (same id) is
not mistaken for a replay.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from audora.platform.errors import ErrorCode
from audora.platform.runtime import Runtime
from audora.tenants.meeting_bots.events import Outcome, parse_event, receive
from audora.tenants.meeting_bots.signatures import WebhookRejected, verify

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# Redis key of a delivery id already received: its value is unused, its TTL the point.
SEEN_PREFIX = "audora:webhooks:meeting-bot:seen:"
SEEN_SECONDS = 24 * 3600

_CODES = {400: ErrorCode.BAD_USER_INPUT, 401: ErrorCode.UNAUTHENTICATED}


def _error(status: int, message: str, code: ErrorCode) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value}}]}, status_code=status
    )


async def _body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


async def meeting_bot_webhook(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    secret = runtime.settings.bot_webhook_secret
    if not secret:
        return _error(404, "not found", ErrorCode.NOT_FOUND)
    body = await _body(request)
    if body is None:
        return _error(413, "the body is over 1 MiB", ErrorCode.PAYLOAD_TOO_LARGE)
    try:
        webhook_id = verify(secret, request.headers, body, runtime.clock.now())
    except WebhookRejected as refused:
        return _error(refused.status, refused.message, _CODES[refused.status])
    try:
        event = parse_event(body)
    except ValueError as exc:
        return _error(400, str(exc), ErrorCode.BAD_USER_INPUT)
    if event is None:
        return JSONResponse({"status": Outcome.IGNORED.value})
    seen = SEEN_PREFIX + webhook_id
    if not await runtime.redis.set(seen, b"1", nx=True, ex=SEEN_SECONDS):
        return JSONResponse({"status": Outcome.IGNORED.value})
    try:
        outcome = await receive(runtime, event)
    except BaseException as exc:
        await runtime.redis.delete(seen)
        if not isinstance(exc, Exception):
            raise
        log.exception("meeting-bot event %s could not be kept; the provider will retry", webhook_id)
        return _error(500, "internal error", ErrorCode.INTERNAL)
    status = 202 if outcome is Outcome.ACCEPTED else 200
    return JSONResponse({"status": outcome.value}, status_code=status)
