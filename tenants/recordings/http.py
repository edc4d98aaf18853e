"""`PUT /uploads/{ticket}`: the audio of a recording, streamed as it arrives.

Answers `201 {"recording": {...}}`, or an error shaped like the GraphQL ones:
`{"errors": [{"message", "extensions": {"code"}}]}` with a fitting HTTP status.
"""

from __future__ import annotations

import logging
import uuid

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from audora.platform import ids
from audora.platform.errors import ErrorCode
from audora.platform.http.client_ip import client_ip
from audora.platform.runtime import Runtime
from audora.tenants.recordings.ingest import UploadRefused, receive_recording

log = logging.getLogger(__name__)


def _error(status: int, message: str, code: ErrorCode, **extra: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value, **extra}}]},
        status_code=status,
    )


async def put_upload(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        received = await receive_recording(
            runtime,
            request.path_params["ticket"],
            request.headers.get("content-type"),
            request.headers.get("content-length"),
            request.stream(),
            ip=client_ip(
                request.client.host if request.client else None,
                request.headers.get("x-forwarded-for"),
                runtime.settings.trusted_proxies,
            ),
        )
    except UploadRefused as refused:
        return _error(refused.status, refused.message, refused.code)
    except ClientDisconnect:
        log.info("an upload was abandoned by its client; nothing was kept")
        return Response(status_code=400)
    except Exception:
        correlation = uuid.uuid4().hex
        log.exception("upload failed %s", correlation)
        return _error(500, "internal error", ErrorCode.INTERNAL, correlationId=correlation)
    return JSONResponse(
        {
            "recording": {
                "id": ids.encode(ids.Kind.RECORDING, received.recording_id),
                "callId": ids.encode(ids.Kind.CALL, received.call_id),
                "sizeBytes": received.size_bytes,
            }
        },
        status_code=201,
    )
