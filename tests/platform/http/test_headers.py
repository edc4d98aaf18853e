"""Every response carries the browser-hardening headers (no sniffing, no referrer, never
framed, isolated, no powerful features), errors included; a page that sends its own
stricter Content-Security-Policy keeps it, and GraphiQL in dev gets the one it needs.
`/.well-known/security.txt` says, per RFC 9116, how to report a vulnerability, and
never goes stale."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.http.app import AudoraApp, create_app

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-site",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def assert_hardened(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get_list(name) == [value], name


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/healthz", {}, 200),
        ("GET", "/no-such-page", {}, 404),
        ("DELETE", "/graphql", {}, 405),
        ("POST", "/graphql", {"content": b"a=1", "headers": {"content-type": "text/plain"}}, 415),
        ("POST", "/graphql", {"json": {"query": "{ __typename }"}}, 200),
        ("GET", "/graphql", {}, 404),
    ],
)
async def test_every_response_carries_the_hardening_headers(
    api: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, object], status: int
) -> None:
    response = await api.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status
    assert_hardened(response)


async def test_an_unhandled_error_still_carries_them() -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("boom")

    app = AudoraApp(routes=[Route("/boom", boom)])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert_hardened(response)
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_admin_pages_keep_their_own_stricter_policy(api: httpx.AsyncClient) -> None:
    response = await api.get("/admin/login")
    assert response.status_code == 200
    csp = response.headers.get_list("content-security-policy")
    assert len(csp) == 1
    assert "script-src 'self'" in csp[0]
    assert "frame-ancestors 'none'" in csp[0]
    assert response.headers.get_list("x-frame-options") == ["DENY"]
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]
    assert response.headers["cross-origin-opener-policy"] == "same-origin"


async def test_graphiql_in_dev_may_load_its_scripts_and_is_still_never_framed(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"env": "dev"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/graphql")
    assert response.status_code == 200
    assert "https://unpkg.com" in response.text
    (csp,) = response.headers.get_list("content-security-policy")
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert "https://unpkg.com" in directives["script-src"]
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["default-src"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"


def _fields(text: str) -> dict[str, str]:
    pairs = [line.split(": ", 1) for line in text.splitlines() if line]
    return {name: value for name, value in pairs}


async def test_security_txt_follows_rfc_9116(
    api: httpx.AsyncClient, settings: Settings, clock: FrozenClock
) -> None:
    response = await api.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    fields = _fields(response.text)
    assert fields["Contact"] == settings.security_contact
    assert fields["Contact"].startswith(("mailto:", "https://"))
    assert fields["Preferred-Languages"] == "en"
    assert fields["Canonical"] == f"{settings.mail_base_url}/.well-known/security.txt"
    assert fields["Canonical"].startswith("https://")
    expires = datetime.strptime(fields["Expires"], "%Y-%m-%dT%H:%M:%S%z")
    assert clock.now() < expires < clock.now() + timedelta(days=365)
    assert_hardened(response)


async def test_security_txt_expiry_moves_with_the_clock_and_names_the_policy(
    settings: Settings,
) -> None:
    clock = FrozenClock(datetime.fromisoformat("2031-03-01T12:00:00+00:00"))
    configured = settings.model_copy(
        update={
            "public_url": "https://api.audora.example/",
            "security_policy_url": "https://audora.example/security",
            "security_contact": "https://audora.example/report",
            "security_languages": "en, fr",
            "security_txt_days": 90,
        }
    )
    app = create_app(configured, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = _fields((await client.get("/.well-known/security.txt")).text)
            clock.advance(timedelta(days=400))
            later = _fields((await client.get("/.well-known/security.txt")).text)
    assert first == {
        "Contact": "https://audora.example/report",
        "Expires": "2031-05-30T12:00:00Z",
        "Preferred-Languages": "en, fr",
        "Canonical": "https://api.audora.example/.well-known/security.txt",
        "Policy": "https://audora.example/security",
    }
    assert later["Expires"] == "2032-07-03T12:00:00Z"
