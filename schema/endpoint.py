"""`POST /graphql` (and GraphiQL on `GET /graphql` in dev).

The endpoint does the HTTP half itself so that every failure, malformed JSON and
oversized bodies included, is a GraphQL-shaped error with its code, and so that the
request boundary is here: the operation's tenant transaction commits only if the
operation had no error at all. Once the answer is decided, an authenticated request's
access-log row is written after it has been sent (`schema/access_log.py`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import datetime
from typing import Any

from graphql import GraphQLError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.exceptions import CannotGetOperationTypeError

from audora.platform.auth.principal import Principal
from audora.platform.auth.service import ClientInfo
from audora.platform.errors import AppError, ErrorCode
from audora.platform.http.client_ip import client_ip
from audora.platform.http.request_metrics import note_request
from audora.platform.runtime import Runtime
from audora.schema import staff_reads
from audora.schema.access_log import AnsweredRequest, entry_of, operation_of, record_request
from audora.schema.build import Limits, build_schema
from audora.schema.context import RequestContext
from audora.schema.persisted import PersistedDocuments, load_manifest, requested_hash

log = logging.getLogger(__name__)


# GraphiQL (dev only) loads its scripts and styles from unpkg (pinned with SRI) and runs
# inline ones: its own policy, in place of the deny-all one every other response gets.
GRAPHIQL_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' https://unpkg.com; "
    "style-src 'unsafe-inline' https://unpkg.com; font-src https://unpkg.com data:; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)


class BodyTooLarge(Exception):
    pass


def error_response(status: int, message: str, code: ErrorCode, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {
            "data": None,
            "errors": [{"message": message, "extensions": {"code": code.value, **extra}}],
        },
        status_code=status,
    )


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _refuse_unstorable(value: Any, depth: int = 0) -> None:
    """NUL characters and lone surrogates cannot be stored in PostgreSQL text or encoded
    as UTF-8: refuse them here rather than fail deep inside a write."""
    if depth > 32:
        raise ValueError("variables are nested too deeply")
    if isinstance(value, str):
        if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
            raise ValueError("text must not contain NUL characters or lone surrogates")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_unstorable(key, depth + 1)
            _refuse_unstorable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _refuse_unstorable(item, depth + 1)


def _parse(
    body: bytes, persisted: PersistedDocuments | None
) -> tuple[str, dict[str, Any] | None, str | None]:
    try:
        payload = json.loads(body)
    except RecursionError:
        raise ValueError("the JSON body is nested too deeply") from None
    if isinstance(payload, list):
        # Batching would multiply every per-operation limit by the batch's length.
        raise ValueError("batched operations (a JSON array) are refused: send one per request")
    if not isinstance(payload, dict):
        raise ValueError("the body must be a JSON object")
    if persisted is not None:
        query = persisted.resolve(payload) or payload.get("query")
    elif requested_hash(payload) is not None:
        raise ValueError("this server keeps no persisted documents: send `query`")
    else:
        query = payload.get("query")
    variables = payload.get("variables")
    operation = payload.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise ValueError("the body has no `query` string")
    if variables is not None and not isinstance(variables, dict):
        raise ValueError("`variables` must be an object")
    if operation is not None and not isinstance(operation, str):
        raise ValueError("`operationName` must be a string")
    _refuse_unstorable(query)
    _refuse_unstorable(variables)
    return query, variables, operation


async def graphql_get(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    if runtime.settings.env != "dev":
        return error_response(404, "not found", ErrorCode.NOT_FOUND)
    return HTMLResponse(
        get_graphql_ide_html("graphiql"), headers={"Content-Security-Policy": GRAPHIQL_CSP}
    )


async def graphql_post(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return error_response(415, "send GraphQL as application/json", ErrorCode.BAD_USER_INPUT)
    try:
        body = await read_body(request, runtime.settings.max_graphql_body_bytes)
    except BodyTooLarge:
        return error_response(
            413,
            f"request body exceeds {runtime.settings.max_graphql_body_bytes} bytes",
            ErrorCode.PAYLOAD_TOO_LARGE,
        )
    try:
        query, variables, operation = _parse(
            body,
            load_manifest(path) if (path := runtime.settings.graphql_persisted_documents) else None,
        )
    except (ValueError, UnicodeDecodeError) as exc:
        message = str(exc) if not isinstance(exc, json.JSONDecodeError) else "malformed JSON"
        return error_response(400, message, ErrorCode.BAD_USER_INPUT)

    context = RequestContext(
        runtime=runtime,
        client=ClientInfo(
            ip=client_ip(
                request.client.host if request.client else None,
                request.headers.get("x-forwarded-for"),
                runtime.settings.trusted_proxies,
            ),
            user_agent=request.headers.get("user-agent"),
        ),
        token=bearer_token(request),
        base_url=runtime.settings.public_url or str(request.base_url),
    )
    started = runtime.clock.now()
    if staff_reads.is_grant_token(context.token):
        refused = await _admit_staff(context, query, variables, operation)
        if refused is not None:
            _note(request, context, operation)
            return refused
    response, error_codes, logged = await _answer(context, query, variables, operation, started)
    principal = _note(request, context, operation)
    if principal is not None and not logged:
        response.background = BackgroundTask(
            record_request,
            runtime,
            AnsweredRequest(
                started,
                principal,
                context.client,
                operation_of(context.document, operation),
                error_codes,
            ),
        )
    return response


def _note(request: Request, context: RequestContext, operation: str | None) -> Principal | None:
    """Tell the request metrics the operation's type and, once someone was
    authenticated, their tenant: the answer is that tenant's data (R2's egress)."""
    principal = context.known_principal()
    ran = operation_of(context.document, operation)
    note_request(
        request.scope,
        tenant=principal.account_id if principal is not None else None,
        customer_data=principal is not None,
        operation_type=ran.operation.value if ran is not None else None,
    )
    return principal


async def _admit_staff(
    context: RequestContext,
    query: str,
    variables: dict[str, Any] | None,
    operation: str | None,
) -> Response | None:
    """A staff grant's request: refused unless it is a read it may run on a live grant;
    audited, run or refused, before it runs."""
    try:
        principal = await context.principal()
    except AppError as exc:
        status = 403 if exc.code is ErrorCode.FORBIDDEN else 401
        return error_response(status, exc.message, exc.code)
    why = staff_reads.refusal(query, operation)
    await staff_reads.audit_operation(
        context.runtime,
        principal,
        staff_reads.operation_name(query, operation),
        variables,
        context.client.ip,
        refused=why,
    )
    if why is not None:
        return error_response(403, why, ErrorCode.FORBIDDEN)
    return None


async def _answer(
    context: RequestContext,
    query: str,
    variables: dict[str, Any] | None,
    operation: str | None,
    started: datetime,
) -> tuple[Response, tuple[str, ...], bool]:
    """Run the operation and settle its transaction: the response, its error codes for
    the access log, and whether its access-log row went into its transaction."""
    success = False
    settings = context.runtime.settings
    try:
        async with asyncio.timeout(settings.graphql_timeout_seconds):
            result = await build_schema(Limits.of(settings)).execute(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=operation,
            )
        success = not result.errors
    except TimeoutError:
        # Cancelled where it stood and rolled back: nothing of it is kept. 503 says
        # "try again later" to clients and proxies; the code stays within CONTRACT's.
        log.warning("graphql operation timed out after %ss", settings.graphql_timeout_seconds)
        await context.finish(success=False)
        return (
            error_response(
                503,
                f"the operation took longer than the time limit of "
                f"{settings.graphql_timeout_seconds:g} seconds and was cancelled",
                ErrorCode.INTERNAL,
            ),
            (ErrorCode.INTERNAL,),
            False,
        )
    except asyncio.CancelledError:
        await context.finish(success=False)  # the client went away: nothing is kept
        raise
    except CannotGetOperationTypeError:
        await context.finish(success=False)
        return (
            error_response(
                400, "operationName names no operation in the document", ErrorCode.BAD_USER_INPUT
            ),
            (ErrorCode.BAD_USER_INPUT,),
            False,
        )
    except Exception:
        correlation = uuid.uuid4().hex
        log.exception("graphql execution failed %s", correlation)
        await context.finish(success=False)
        return _internal(correlation), (ErrorCode.INTERNAL,), False
    principal = context.known_principal()
    access = (
        entry_of(
            AnsweredRequest(
                started, principal, context.client, operation_of(context.document, operation), ()
            )
        )
        if success and principal is not None
        else None
    )
    try:
        logged = await context.finish(success=success, access=access)
    except Exception:
        correlation = uuid.uuid4().hex
        log.exception("commit failed %s", correlation)
        return _internal(correlation), (ErrorCode.INTERNAL,), False
    try:
        await context.audit_integrity_failures()
    except Exception:
        log.exception("could not audit an integrity failure")

    errors = result.errors or []
    response: dict[str, Any] = {"data": result.data}
    if errors:
        response["errors"] = [_formatted(e) for e in errors]
    codes = tuple(str((e.extensions or {}).get("code", ErrorCode.INTERNAL)) for e in errors)
    return JSONResponse(response), codes, logged


def _internal(correlation: str) -> JSONResponse:
    return error_response(500, "internal error", ErrorCode.INTERNAL, correlationId=correlation)


def _formatted(error: GraphQLError) -> dict[str, Any]:
    return dict(error.formatted)
