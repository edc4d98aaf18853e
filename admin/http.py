"""`/admin/...`: the staff console (break-glass access, issue 8).

Pages (`GET`) are server-rendered; actions are `POST /admin/api/...` with a JSON body,
answered in JSON. The staff session is an HttpOnly, Secure, SameSite=Strict cookie
(`__Host-` prefixed: this host only, path /); every action also requires a JSON body
and, where the browser sends one, an Origin among the WebAuthn origins, so no other
site can make a signed-in browser act. Every answer forbids framing and caching; pages
carry a CSP that allows this origin's script file and nothing inline.

Nothing here reads customer data: with a live grant the console's script sends reads
to `POST /graphql` with the grant's token, where the same tenant binding and field
rules apply as for customers (tenants/staff_access/grants.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from audora.admin import pages
from audora.platform import ids
from audora.platform.auth.service import ClientInfo
from audora.platform.errors import AppError, ErrorCode
from audora.platform.http.client_ip import client_ip
from audora.platform.runtime import Runtime
from audora.platform.staff import accounts
from audora.platform.staff.accounts import StaffSession
from audora.tenants.registry.tables import accounts as account_table
from audora.tenants.staff_access import access, grants

log = logging.getLogger(__name__)

COOKIE = "__Host-audora-staff"
MAX_BODY = 64 * 1024
_SCRIPT = (Path(__file__).parent / "static" / "admin.js").read_bytes()
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
}
_STATUS = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.LOCKED_OUT: 429,
}

Handler = Callable[[Request], Awaitable[Response]]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _client(request: Request) -> ClientInfo:
    runtime = _runtime(request)
    return ClientInfo(
        ip=client_ip(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            runtime.settings.trusted_proxies,
        ),
        user_agent=request.headers.get("user-agent"),
    )


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=_HEADERS)


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=_HEADERS)


def _error(exc: AppError) -> JSONResponse:
    body = {"error": exc.message, "code": exc.code.value, **exc.extensions}
    return _json(body, _STATUS.get(exc.code, 400))


async def _session(request: Request) -> StaffSession:
    return await accounts.authenticate(_runtime(request), request.cookies.get(COOKIE))


async def _body(request: Request) -> dict[str, Any]:
    """The action's JSON body, from a page of ours."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise AppError("send JSON", code=ErrorCode.BAD_USER_INPUT)
    origin = request.headers.get("origin")
    if origin is not None and origin not in _runtime(request).settings.webauthn_expected_origins:
        raise AppError("not from the console's origin", code=ErrorCode.FORBIDDEN)
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise AppError("body too large", code=ErrorCode.BAD_USER_INPUT)
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError:
        raise AppError("malformed JSON", code=ErrorCode.BAD_USER_INPUT) from None
    if not isinstance(parsed, dict):
        raise AppError("the body must be a JSON object", code=ErrorCode.BAD_USER_INPUT)
    return parsed


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise AppError(f"{key} is required", code=ErrorCode.BAD_USER_INPUT, field=key)
    return value


def action(handler: Callable[[Request, dict[str, Any]], Awaitable[Response]]) -> Handler:
    """A JSON action: its body checked, its AppErrors answered as JSON."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request, await _body(request))
        except AppError as exc:
            return _error(exc)

    return run


# Pages


async def login(request: Request) -> Response:
    return _html(pages.login_page())


async def enroll(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        staff = await accounts.pending_enrollment(_runtime(request), token)
    except AppError:
        return _html("<!doctype html><title>Not found</title><p>This link is not valid.", 404)
    return _html(pages.enroll_page(token, staff["email"]))


async def home(request: Request) -> Response:
    runtime = _runtime(request)
    try:
        session = await _session(request)
    except AppError:
        return RedirectResponse("/admin/login", status_code=303, headers=_HEADERS)
    async with runtime.platform_engine.connect() as conn:
        tenants = (
            (
                await conn.execute(
                    select(
                        account_table.c.id,
                        account_table.c.name,
                        account_table.c.plan,
                        account_table.c.status,
                    ).order_by(account_table.c.created_at.desc())
                )
            )
            .mappings()
            .all()
        )
    mine = await access.requests_of_staff(runtime, session.staff_id)
    return _html(pages.home_page(session, list(tenants), mine))


async def script(request: Request) -> Response:
    return Response(
        _SCRIPT, media_type="text/javascript", headers={**_HEADERS, "Cache-Control": "no-cache"}
    )


# Actions


@action
async def enroll_options(request: Request, body: dict[str, Any]) -> Response:
    options = await accounts.enrollment_options(_runtime(request), request.path_params["token"])
    return _json(json.loads(options))


@action
async def enroll_finish(request: Request, body: dict[str, Any]) -> Response:
    await accounts.finish_enrollment(
        _runtime(request),
        request.path_params["token"],
        _text(body, "password"),
        _text(body, "credential"),
        _client(request),
    )
    return _json({"enrolled": True})


@action
async def sign_in_start(request: Request, body: dict[str, Any]) -> Response:
    pending, options = await accounts.start_sign_in(
        _runtime(request), _text(body, "email"), _text(body, "password"), _client(request)
    )
    return _json({"pending": pending, "options": json.loads(options)})


@action
async def sign_in_finish(request: Request, body: dict[str, Any]) -> Response:
    token, session = await accounts.finish_sign_in(
        _runtime(request), _text(body, "pending"), _text(body, "assertion"), _client(request)
    )
    response = _json({"signedIn": True, "expiresAt": session.expires_at.isoformat()})
    response.set_cookie(
        COOKIE,
        token,
        max_age=_runtime(request).settings.staff_session_hours * 3600,
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    return response


@action
async def sign_out(request: Request, body: dict[str, Any]) -> Response:
    session = await _session(request)
    await grants.end_with_session(_runtime(request), session, _client(request))
    await accounts.sign_out(_runtime(request), session, _client(request))
    response = _json({"signedOut": True})
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@action
async def request_access(request: Request, body: dict[str, Any]) -> Response:
    session = await _session(request)
    scope = body.get("scope")
    minutes = body.get("minutes")
    if not isinstance(scope, list) or not all(isinstance(s, str) for s in scope):
        raise AppError("scope is a list of data classes", code=ErrorCode.BAD_USER_INPUT)
    if not isinstance(minutes, int) or isinstance(minutes, bool):
        raise AppError("minutes is a whole number", code=ErrorCode.BAD_USER_INPUT)
    request_id = await access.request_access(
        _runtime(request),
        session,
        ids.decode(ids.Kind.ACCOUNT, _text(body, "accountId"), field="accountId"),
        reason=_text(body, "reason"),
        ticket=_text(body, "ticket"),
        scope=scope,
        minutes=minutes,
        client=_client(request),
    )
    return _json({"id": access.public_id(request_id)})


@action
async def activation_options(request: Request, body: dict[str, Any]) -> Response:
    session = await _session(request)
    options = await grants.activation_options(
        _runtime(request), session, ids.decode(ids.Kind.ACCESS_REQUEST, request.path_params["id"])
    )
    return _json(json.loads(options))


@action
async def activate(request: Request, body: dict[str, Any]) -> Response:
    session = await _session(request)
    grant_id, token, expires = await grants.activate(
        _runtime(request),
        session,
        ids.decode(ids.Kind.ACCESS_REQUEST, request.path_params["id"]),
        _text(body, "assertion"),
        _client(request),
    )
    return _json(
        {
            "grantId": ids.encode(ids.Kind.ACCESS_GRANT, grant_id),
            "token": token,
            "expiresAt": expires.isoformat(),
        }
    )


@action
async def end_grant(request: Request, body: dict[str, Any]) -> Response:
    session = await _session(request)
    await grants.end_by_staff(
        _runtime(request),
        session,
        ids.decode(ids.Kind.ACCESS_GRANT, request.path_params["id"]),
        _client(request),
    )
    return _json({"ended": True})


ROUTES: list[BaseRoute] = [
    Route("/", home, methods=["GET"]),
    Route("/login", login, methods=["GET"]),
    Route("/enroll/{token}", enroll, methods=["GET"]),
    Route("/static/admin.js", script, methods=["GET"]),
    Route("/api/enroll/{token}/options", enroll_options, methods=["POST"]),
    Route("/api/enroll/{token}/finish", enroll_finish, methods=["POST"]),
    Route("/api/sign-in/start", sign_in_start, methods=["POST"]),
    Route("/api/sign-in/finish", sign_in_finish, methods=["POST"]),
    Route("/api/sign-out", sign_out, methods=["POST"]),
    Route("/api/requests", request_access, methods=["POST"]),
    Route("/api/requests/{id}/activate/options", activation_options, methods=["POST"]),
    Route("/api/requests/{id}/activate", activate, methods=["POST"]),
    Route("/api/grants/{id}/end", end_grant, methods=["POST"]),
]
