"""E6: outbound calls use TLS with certificate validation; self-signed certificates are
refused. Real https servers on loopback, with certificates from a test CA of our own."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from audora.platform.http.outbound import InsecureDestination, outbound_client
from audora.platform.tls.local_ca import ensure_server_certificate


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("location", "http://127.0.0.1:9/plain")
            self.end_headers()
            return
        body = b"hello over tls"
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(cert: Path, key: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("test-ca")


@pytest.fixture(scope="module")
def ca_signed(test_ca: Path) -> Iterator[str]:
    made = ensure_server_certificate(test_ca)
    yield from _serve(made.cert_file, made.key_file)


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("self-signed")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    for url in _serve(folder / "cert.pem", folder / "key.pem"):
        yield url, folder / "cert.pem"


async def test_a_server_with_a_certificate_from_a_trusted_ca_is_reached(
    ca_signed: str, test_ca: Path
) -> None:
    async with outbound_client(extra_ca=test_ca / "ca.pem") as client:
        response = await client.get(ca_signed + "/")
    assert response.text == "hello over tls"


async def test_a_server_whose_ca_is_not_trusted_is_refused(ca_signed: str) -> None:
    async with outbound_client() as client:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.get(ca_signed + "/")


async def test_a_self_signed_server_is_refused(self_signed: tuple[str, Path]) -> None:
    url, cert = self_signed
    async with outbound_client() as client:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.get(url + "/")
    # Nor can the self-signed certificate be trusted as if it were a CA.
    with pytest.raises(ValueError, match="not a CA"):
        outbound_client(extra_ca=cert)


async def test_plain_http_destinations_are_refused_before_connecting() -> None:
    async with outbound_client() as client:
        with pytest.raises(InsecureDestination):
            await client.get("http://127.0.0.1:9/hook")


async def test_redirects_are_not_followed(ca_signed: str, test_ca: Path) -> None:
    async with outbound_client(extra_ca=test_ca / "ca.pem") as client:
        response = await client.get(ca_signed + "/redirect")
    assert response.status_code == 302
