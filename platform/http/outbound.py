"""The one way Audora makes outbound HTTP calls (webhooks, integrations, AI providers,
meeting-bot downloads, hosted KMS): https only, certificates verified against the system
store (plus an operator-named CA bundle), TLS 1.2 at least, no redirects followed.

A self-signed certificate is refused: it chains to no trusted CA, and a trust bundle may
hold only CA certificates, so a self-signed server certificate cannot be slipped in as
its own anchor.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
from cryptography import x509

from audora.platform.errors import AppError, ErrorCode


class InsecureDestination(AppError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code=ErrorCode.BAD_USER_INPUT)


def _only_ca_certificates(bundle: Path) -> None:
    for cert in x509.load_pem_x509_certificates(bundle.read_bytes()):
        try:
            ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            ca = False
        if not ca:
            raise ValueError(f"{bundle} holds a certificate that is not a CA: {cert.subject}")


def outbound_tls_context(extra_ca: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if extra_ca is not None:
        _only_ca_certificates(extra_ca)
        context.load_verify_locations(cafile=str(extra_ca))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


async def _require_https(request: httpx.Request) -> None:
    if request.url.scheme != "https":
        raise InsecureDestination(f"outbound calls must use https, not {request.url.scheme}")


def outbound_client(
    *,
    extra_ca: Path | None = None,
    timeout: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The client for every outbound call. `transport`, when given, must verify TLS with
    `outbound_tls_context` itself (platform/http/destinations.py's guarded transport)."""
    return httpx.AsyncClient(
        verify=outbound_tls_context(extra_ca),
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,  # no proxy or CA from the environment slips in unverified
        event_hooks={"request": [_require_https]},
    )


def _require_https_sync(request: httpx.Request) -> None:
    if request.url.scheme != "https":
        raise InsecureDestination(f"outbound calls must use https, not {request.url.scheme}")


def outbound_sync_client(*, extra_ca: Path | None = None, timeout: float = 30.0) -> httpx.Client:
    """The same rules for code that runs in a worker thread (hosted transcription
    providers are called synchronously, like the embedded model)."""
    return httpx.Client(
        verify=outbound_tls_context(extra_ca),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        event_hooks={"request": [_require_https_sync]},
    )
