"""A real browser's authenticator for the WebAuthn tests.

Debian's Chromium (never a browser Playwright downloads), driven by Playwright, with a
DevTools virtual authenticator standing in for a passkey: CTAP2, built in ("internal"),
discoverable credentials and user verification. WebAuthn needs a secure context on the
relying party's origin, so the page is a blank one that Playwright itself answers at
`<origin>/__webauthn__`; every other request the browser would make is refused, so
nothing leaves it. The ceremonies use the browser's own JSON helpers
(`PublicKeyCredential.parse*OptionsFromJSON`, `credential.toJSON()`), as a frontend
does: base64url strings in, ArrayBuffers to the authenticator, base64url JSON back.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, Route, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGE_PATH = "/__webauthn__"
# A browser that hangs fails the test in seconds, not at the suite's timeout.
TIMEOUT_S = 15
TIMEOUT_MS = TIMEOUT_S * 1000

_CREATE = """async (options) => {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(options));
  const credential = await navigator.credentials.create({ publicKey });
  return JSON.stringify(credential.toJSON());
}"""

_GET = """async (options) => {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(options));
  const credential = await navigator.credentials.get({ publicKey });
  return JSON.stringify(credential.toJSON());
}"""


class BrowserAuthenticator:
    def __init__(self, page: Page) -> None:
        self.page = page

    async def _open(self, origin: str) -> None:
        current = urlsplit(self.page.url)
        if f"{current.scheme}://{current.netloc}" != origin:
            await self.page.goto(origin + PAGE_PATH)

    async def create(self, origin: str, options: str) -> str:
        """The credential (JSON) made for creation `options`, on a page of `origin`."""
        await self._open(origin)
        return await self._evaluate(_CREATE, options)

    async def get(self, origin: str, options: str) -> str:
        """The assertion (JSON) answering request `options`, on a page of `origin`."""
        await self._open(origin)
        return await self._evaluate(_GET, options)

    async def _evaluate(self, script: str, options: str) -> str:
        # `evaluate` has no timeout of its own, and a ceremony may wait minutes.
        made: str = await asyncio.wait_for(self.page.evaluate(script, options), TIMEOUT_S)
        return made


async def _blank(route: Route) -> None:
    await route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>")


async def _through(route: Route) -> None:
    await route.continue_()


async def _refuse(route: Route) -> None:
    await route.abort()


def _skip_without_chromium() -> None:
    if not CHROMIUM.exists():
        # CI installs Chromium and sets this: there, a missing browser is a failure.
        if os.environ.get("AUDORA_REQUIRE_BROWSER"):
            pytest.fail(f"no Chromium at {CHROMIUM}, and AUDORA_REQUIRE_BROWSER is set")
        pytest.skip(
            f"no Chromium at {CHROMIUM}: .ci/run installs Debian's as root "
            f"(apt-get install chromium){'' if shutil.which('apt-get') else '; no apt-get here'}"
        )


@asynccontextmanager
async def browser_authenticator(
    pages_from: str | None = None,
) -> AsyncIterator[BrowserAuthenticator]:
    """The browser and its authenticator. With `pages_from` (an origin such as
    https://localhost:PORT), pages of that origin are loaded for real, over TLS from a
    local CA the browser is told to accept; everything else is still refused."""
    _skip_without_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, timeout=TIMEOUT_MS
        )
        try:
            context = await browser.new_context(ignore_https_errors=pages_from is not None)
            context.set_default_timeout(TIMEOUT_MS)
            # The last route registered is tried first.
            await context.route("**/*", _refuse)
            if pages_from is not None:
                await context.route(f"{pages_from}/**", _through)
            await context.route(f"**{PAGE_PATH}", _blank)
            page = await context.new_page()
            devtools = await context.new_cdp_session(page)
            await devtools.send("WebAuthn.enable")
            await devtools.send(
                "WebAuthn.addVirtualAuthenticator",
                {
                    "options": {
                        "protocol": "ctap2",
                        "transport": "internal",
                        "hasResidentKey": True,
                        "hasUserVerification": True,
                        "isUserVerified": True,
                    }
                },
            )
            yield BrowserAuthenticator(page)
        finally:
            await browser.close()
