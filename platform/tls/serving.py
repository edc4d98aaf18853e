"""Which certificate the API serves, and uvicorn's TLS context built from it."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

from uvicorn import Config

from audora.platform.config import Settings
from audora.platform.tls.local_ca import ensure_server_certificate
from audora.platform.tls.server_context import server_ssl_context


def certificate_files(settings: Settings) -> tuple[Path, Path]:
    if settings.tls_cert_file and settings.tls_key_file:
        return settings.tls_cert_file, settings.tls_key_file
    if settings.is_production:
        raise RuntimeError("production needs AUDORA_TLS_CERT_FILE and AUDORA_TLS_KEY_FILE")
    made = ensure_server_certificate(settings.data_dir / "tls")
    return made.cert_file, made.key_file


def ssl_context_factory(
    settings: Settings,
) -> Callable[[Config, Callable[[], ssl.SSLContext]], ssl.SSLContext]:
    cert_file, key_file = certificate_files(settings)

    def factory(config: Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        # uvicorn's default context allows whatever OpenSSL allows; ours does not.
        return server_ssl_context(cert_file, key_file)

    return factory
