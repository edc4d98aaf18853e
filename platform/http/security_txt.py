"""`GET /.well-known/security.txt` (RFC 9116): how to report a vulnerability.

`Expires` is computed from the clock on every request, a setting's number of days
ahead (under the RFC's recommended year), so the file never goes stale; `Canonical`
is the URL it is served at under the public base URL.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import PlainTextResponse

from audora.platform.runtime import Runtime

PATH = "/.well-known/security.txt"


def security_txt_body(runtime: Runtime) -> str:
    settings = runtime.settings
    expires = runtime.clock.now() + timedelta(days=settings.security_txt_days)
    lines = [
        f"Contact: {settings.security_contact}",
        f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"Preferred-Languages: {settings.security_languages}",
        f"Canonical: {settings.mail_base_url}{PATH}",
    ]
    if settings.security_policy_url:
        lines.append(f"Policy: {settings.security_policy_url}")
    return "\n".join(lines) + "\n"


async def security_txt(request: Request) -> PlainTextResponse:
    runtime: Runtime = request.app.state.runtime
    return PlainTextResponse(
        security_txt_body(runtime),
        media_type="text/plain",
        headers={"Cache-Control": "max-age=86400"},
    )
