"""`GET|POST /sessions/revoke/{token}`: the link in a new-device alert.

`GET` shows a page with one button; `POST` ends the session (see
platform/auth/revoke_links.py for why a `GET` changes nothing). Both answer a small
HTML page, or JSON when the client asks for `application/json`:
`{"session": {"state": "LIVE" | "ENDED" | "ALREADY_ENDED"}}`, and 404 with the usual
error shape for a link that names nothing. No sign-in is needed.

The URL carries the token, so the answers are never cached, send no referrer, load
nothing from anywhere and cannot be framed.
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from audora.platform.auth import revoke_links
from audora.platform.auth.revoke_links import Link, LinkState
from audora.platform.errors import ErrorCode
from audora.platform.http.client_ip import client_ip
from audora.platform.runtime import Runtime

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

_TEXT = {
    LinkState.UNKNOWN: (
        "Link not recognised",
        "This link does not name a session. Check that it was copied whole.",
    ),
    LinkState.LIVE: (
        "End this session?",
        "A new device signed in to your Audora account. If it was not you, end that "
        "session now, then change your password.",
    ),
    LinkState.ENDED: (
        "Session ended",
        "The session is over: its token no longer works. If the sign-in was not yours, "
        "change your password now.",
    ),
    LinkState.ALREADY_ENDED: (
        "Session already ended",
        "This session had already ended; nothing more was needed.",
    ),
}


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "").lower()


def _answer(request: Request, link: Link) -> Response:
    status = 404 if link.state is LinkState.UNKNOWN else 200
    if _wants_json(request):
        if link.state is LinkState.UNKNOWN:
            body: dict[str, object] = {
                "errors": [
                    {
                        "message": "revoke link not found",
                        "extensions": {"code": ErrorCode.NOT_FOUND.value},
                    }
                ]
            }
        else:
            body = {"session": {"state": link.state.value}}
        return JSONResponse(body, status_code=status, headers=_HEADERS)
    title, text = _TEXT[link.state]
    form = (
        '<form method="post"><button type="submit">End the session</button></form>'
        if link.state is LinkState.LIVE
        else ""
    )
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width">'
        f"<title>{escape(title)} · Audora</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;"
        "padding:0 1rem}button{font:inherit;padding:.5rem 1rem}</style></head>"
        f"<body><h1>{escape(title)}</h1><p>{escape(text)}</p>{form}</body></html>"
    )
    return HTMLResponse(page, status_code=status, headers=_HEADERS)


async def revoke_page(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    token = request.path_params["token"]
    if request.method == "POST":
        ip = client_ip(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            runtime.settings.trusted_proxies,
        )
        link = await revoke_links.use(runtime, token, ip=ip)
    else:
        link = await revoke_links.inspect(runtime.platform_engine, token)
    return _answer(request, link)
