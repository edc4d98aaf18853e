"""The API's TLS settings: TLS 1.3 preferred, TLS 1.2 the minimum, strong suites only.

Anything older than 1.2 fails at the handshake. The TLS 1.2 list is forward-secret AEAD
only (ECDHE with AES-GCM or ChaCha20-Poly1305); TLS 1.3's suites are all of that kind.
"""

from __future__ import annotations

import ssl
from pathlib import Path

TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL"


def server_ssl_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= (
        ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_RENEGOTIATION
    )
    context.load_cert_chain(certfile=str(cert_file), keyfile=str(key_file))
    return context
