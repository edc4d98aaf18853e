"""Browser-hardening headers on every response, errors included.

Each header is set only when the route did not set its own: the admin pages and the
session-revoke page send a stricter (or page-specific) Content-Security-Policy, and
GraphiQL in dev sends the one it needs to load; those are kept as they are. What is
added everywhere else is deny-by-default: the API answers JSON and downloads, which
need no script, style, frame or form, and must never be framed (clickjacking) or
sniffed into HTML.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", DEFAULT_CSP.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
    # same-site, not same-origin: the web app on a sibling subdomain reads exports.
    (b"cross-origin-resource-policy", b"same-site"),
    (
        b"permissions-policy",
        b"camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
