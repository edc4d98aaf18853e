"""`GET /exports/{token}`: a data export's ZIP, decrypted as it streams.

Answers 200 with the archive, or an error shaped like the GraphQL ones (as uploads do):
404 for a link that names nothing, 410 for an expired link or export.
"""

from __future__ import annotations

import logging
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from audora.platform.errors import ErrorCode
from audora.platform.http.client_ip import client_ip
from audora.platform.http.request_metrics import note_request
from audora.platform.runtime import Runtime
from audora.tenants.lifecycle.export import DownloadRefused, open_download

log = logging.getLogger(__name__)


def _error(status: int, message: str, code: ErrorCode, **extra: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value, **extra}}]},
        status_code=status,
    )


async def get_export(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        download = await open_download(
            runtime,
            request.path_params["token"],
            ip=client_ip(
                request.client.host if request.client else None,
                request.headers.get("x-forwarded-for"),
                runtime.settings.trusted_proxies,
            ),
        )
    except DownloadRefused as refused:
        return _error(refused.status, refused.message, refused.code)
    except Exception:
        correlation = uuid.uuid4().hex
        log.exception("export download failed %s", correlation)
        return _error(500, "internal error", ErrorCode.INTERNAL, correlationId=correlation)
    # Its bytes, counted as they stream, are the tenant's egress (R2).
    note_request(request.scope, tenant=download.account_id, customer_data=True)
    return StreamingResponse(
        download.chunks,
        media_type="application/zip",
        headers={
            "content-disposition": f'attachment; filename="audora-export-{download.export_id}.zip"',
            # A personal archive: no shared cache keeps it.
            "cache-control": "no-store",
        },
    )
