"""E1 and E2: the API speaks TLS 1.3 where the client can, TLS 1.2 at least, refuses
anything older or weaker at the handshake, and sends HSTS on every response.

Real TLS clients against the real server (`audora serve`), started as `make run` does."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from pathlib import Path

import httpx
import pytest

from audora_testing import Served

REPO = Path(__file__).resolve().parents[3]
HSTS = "max-age=31536000; includeSubDomains"


def _handshake(served: Served, context: ssl.SSLContext) -> str:
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return str(tls.version())


def _client(served: Served) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(served.ca))
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    return context


def test_a_tls_1_3_client_connects_with_tls_1_3(served: Served) -> None:
    assert _handshake(served, _client(served)) == "TLSv1.3"


def test_a_tls_1_2_only_client_still_connects(served: Served) -> None:
    context = _client(served)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    assert _handshake(served, context) == "TLSv1.2"


def _old_client(served: Served, version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(str(served.ca))
    # Security level 0, so that this client really offers the old protocol.
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.minimum_version = version
    context.maximum_version = version
    return context


def _lenient_server(served: Served) -> tuple[int, threading.Thread]:
    """A control server that accepts old protocols, with the API's own certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    tls_dir = served.ca.parent
    context.load_cert_chain(tls_dir / "server.pem", tls_dir / "server-key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept_once() -> None:
        with listener, contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)

    thread = threading.Thread(target=accept_once, daemon=True)
    thread.start()
    return port, thread


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1])
def test_clients_older_than_tls_1_2_are_refused_at_the_handshake(
    served: Served, version: ssl.TLSVersion
) -> None:
    _refused_though_possible(served, _old_client(served, version))


def _refused_though_possible(served: Served, client: ssl.SSLContext) -> None:
    # The client can really complete this handshake: a lenient server accepts it ...
    port, thread = _lenient_server(served)
    _handshake(Served(port, served.ca), client)
    thread.join(timeout=5)
    # ... and the API refuses it before any byte of application data.
    with pytest.raises(ssl.SSLError):
        _handshake(served, client)


def test_a_tls_1_2_client_offering_only_weak_suites_is_refused(served: Served) -> None:
    context = _client(served)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    # CBC with SHA-1 MACs: still allowed by OpenSSL's defaults, not by Audora.
    context.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA")
    _refused_though_possible(served, context)


def test_plain_http_gets_no_answer(served: Served) -> None:
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://localhost:{served.port}/healthz", timeout=5)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/healthz", {}, 200),
        ("GET", "/readyz", {}, 200),
        ("GET", "/no-such-page", {}, 404),
        ("POST", "/graphql", {"json": {"query": "{ me { user { id } } }"}}, 200),
        (
            "POST",
            "/graphql",
            {"content": b"{", "headers": {"content-type": "application/json"}},
            400,
        ),
        (
            "POST",
            "/graphql",
            {"content": b" " * 400_000, "headers": {"content-type": "application/json"}},
            413,
        ),
        ("DELETE", "/graphql", {}, 405),
    ],
)
def test_every_response_carries_hsts(
    served: Served, method: str, path: str, kwargs: dict[str, object], status: int
) -> None:
    response = httpx.request(
        method,
        served.url + path,
        verify=_client(served),
        timeout=10,
        **kwargs,  # type: ignore[arg-type]
    )
    assert response.status_code == status
    assert response.headers["strict-transport-security"] == HSTS
