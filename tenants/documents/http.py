"""`GET /documents/{id}/export?format=md|pdf`: a document as a file to download.

The caller is resolved exactly as for `/graphql` (the request context of
`schema/context.py`: bearer session token, idle expiry, bound address and user agent),
then held to the same rules as the `document` query: documents:read, the seat's client
profiles (another tenant's document, or one outside the scope, is 404 like a missing
one), and budget sections hidden without financials:read. Errors are shaped like the
GraphQL ones. Each export is audited (`document.exported`: who, which, which format)
and has its access-log row.

The file name names the kind and the public id only: a title is customer content, and
headers end up in proxies' logs. Responses are `Cache-Control: no-store`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from audora.platform import ids
from audora.platform.auth.permissions import Permission, allows
from audora.platform.auth.service import ClientInfo
from audora.platform.crypto.envelope import IntegrityError
from audora.platform.db.tenant_binding import TenantRef
from audora.platform.errors import AppError, ErrorCode, bad_input, forbidden
from audora.platform.http.client_ip import client_ip
from audora.platform.http.request_metrics import note_request
from audora.platform.runtime import Runtime
from audora.schema.context import RequestContext
from audora.schema.endpoint import bearer_token
from audora.tenants.access_log.log import AccessEntry, outcome_of, write
from audora.tenants.audit.log import AuditEntry, append
from audora.tenants.documents import service
from audora.tenants.documents.export import markdown_file, pdf_file

log = logging.getLogger(__name__)

FORMATS = {
    "md": "text/markdown; charset=utf-8",
    "pdf": "application/pdf",
}
_STATUS = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.BAD_USER_INPUT: 400,
}


def _error(status: int, message: str, code: ErrorCode, **extra: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value, **extra}}]},
        status_code=status,
        headers={"cache-control": "no-store"},
    )


async def export_document(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
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
    )
    started = runtime.clock.now()
    response = await _answer(request, context)
    principal = context.known_principal()
    note_request(
        request.scope,
        tenant=principal.account_id if principal is not None else None,
        customer_data=response.status_code == 200,
    )
    if principal is not None:
        codes = (_code_of(response.status_code),) if response.status_code >= 400 else ()
        response.background = BackgroundTask(
            _record,
            runtime,
            principal.tenant,
            AccessEntry(
                at=started,
                account_id=principal.account_id,
                user_id=principal.user_id,
                session_id=principal.session_id,
                ip=context.client.ip,
                user_agent=context.client.user_agent,
                operation_type="http",
                operation_name="exportDocument",
                outcome=outcome_of(codes),
            ),
        )
    return response


def _code_of(status: int) -> str:
    return next((c.value for c, s in _STATUS.items() if s == status), ErrorCode.INTERNAL.value)


async def _record(runtime: Runtime, tenant: TenantRef, entry: AccessEntry) -> None:
    """The access-log row, after the answer is sent; a failure is logged, never raised."""
    try:
        await write(runtime.tenant_engines, tenant, entry)
    except Exception:
        log.exception("could not write the access log of account %s", entry.account_id)


async def _answer(request: Request, context: RequestContext) -> Response:
    success = False
    try:
        principal = await context.principal()
        if not allows(principal.role, Permission.DOCUMENTS_READ):
            raise forbidden(f"your role does not have {Permission.DOCUMENTS_READ.value}")
        fmt = request.query_params.get("format", "md")
        if fmt not in FORMATS:
            raise bad_input("format must be md or pdf", field="format")
        document_id = ids.decode(ids.Kind.DOCUMENT, request.path_params["id"])
        uow = await context.tenant_uow()
        document = await service.get_document(uow, context.runtime.keys, principal, document_id)
        if fmt == "pdf":
            font = context.runtime.settings.pdf_font_file
            body = await asyncio.to_thread(pdf_file, document, font_file=font)
        else:
            body = markdown_file(document)
        await append(
            uow,
            context.runtime.clock.now(),
            AuditEntry(
                actor=f"user:{principal.user_id}",
                action="document.exported",
                target=f"document:{document_id}",
                ip=context.client.ip,
                details={"format": fmt, "version": document.version},
            ),
        )
        success = True
    except AppError as refused:
        return _error(_STATUS.get(refused.code, 400), refused.message, refused.code)
    except IntegrityError:
        correlation = uuid.uuid4().hex
        log.exception("an exported document failed its integrity check %s", correlation)
        context.integrity_failures.append(f"document:{request.path_params['id']}")
        return _error(
            500,
            "stored data failed its integrity check",
            ErrorCode.INTERNAL,
            correlationId=correlation,
        )
    except Exception:
        correlation = uuid.uuid4().hex
        log.exception("export failed %s", correlation)
        return _error(500, "internal error", ErrorCode.INTERNAL, correlationId=correlation)
    finally:
        await context.finish(success=success)
        if not success:
            try:
                await context.audit_integrity_failures()
            except Exception:
                log.exception("could not audit an integrity failure")
    name = f"{document.kind.value.lower().replace('_', '-')}-{request.path_params['id']}.{fmt}"
    return Response(
        body,
        media_type=FORMATS[fmt],
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
        },
    )
