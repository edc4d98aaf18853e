"""Fixtures of the meeting-bot tests: the provider's stand-in (`bot_provider.py`) served
over TLS, and the platform's settings pointed at it."""

from __future__ import annotations

import base64
import os
import ssl
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audora.platform.config import Settings
from audora.platform.tls.local_ca import ensure_server_certificate

from bot_provider import FIXTURE, ProviderHandler, ProviderServer, ProviderState, signed_headers


@pytest.fixture(scope="session")
def provider_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bot-provider-ca")


@pytest.fixture(scope="session")
def provider_server(provider_ca: Path) -> Iterator[ProviderServer]:
    made = ensure_server_certificate(provider_ca)
    server = ProviderServer(("127.0.0.1", 0), ProviderHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(made.cert_file, made.key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.state = ProviderState()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def provider(
    provider_server: ProviderServer,
    provider_ca: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> ProviderState:
    """A fresh stand-in state, and the platform's settings pointed at the stand-in
    (restored after the test)."""
    base = f"https://localhost:{provider_server.server_address[1]}"
    state = ProviderState(media=FIXTURE.read_bytes(), base_url=base)
    provider_server.state = state
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setattr(settings, "bot_provider_url", base)
    monkeypatch.setattr(settings, "bot_provider_api_key", state.api_key)
    monkeypatch.setattr(settings, "bot_webhook_secret", secret)
    monkeypatch.setattr(settings, "outbound_ca_file", provider_ca / "ca.pem")
    monkeypatch.setattr(settings, "outbound_allow_private_hosts", ["localhost"])
    return state


@pytest.fixture
def sign(settings: Settings, provider: ProviderState) -> Any:
    def signer(body: bytes, timestamp: int, webhook_id: str | None = None) -> dict[str, str]:
        return signed_headers(
            settings.bot_webhook_secret, body, timestamp, webhook_id or f"msg_{uuid.uuid4().hex}"
        )

    return signer
