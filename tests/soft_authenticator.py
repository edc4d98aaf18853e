"""A small software security key for unit tests, built on `cryptography`.

It answers WebAuthn creation and request options as a CTAP2 key would: an ES256
credential per registration, "packed" self-attestation, the user present and (unless
told otherwise) verified, and a signature counter that moves on each assertion. The
browser test uses Chromium's virtual authenticator instead (browser_authenticator.py).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

UP, UV, AT = 0x01, 0x04, 0x40
AAGUID = bytes.fromhex("5f0fd1e1c0de4b5e9a7c0ffee0000001")


@dataclass
class _Credential:
    key: ec.EllipticCurvePrivateKey
    user_handle: bytes
    rp_id: str
    counter: int = 0


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
    ).encode()


def _cose(key: ec.EllipticCurvePrivateKey) -> bytes:
    numbers = key.public_key().public_numbers()
    return cbor2.dumps(
        {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
    )


@dataclass
class SoftAuthenticator:
    credentials: dict[bytes, _Credential] = field(default_factory=dict)

    def create(self, options: str | dict[str, Any], origin: str) -> str:
        """The registration JSON answering creation `options`."""
        opts = json.loads(options) if isinstance(options, str) else options
        rp_id = opts["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        credential_id = secrets.token_bytes(32)
        self.credentials[credential_id] = _Credential(
            key, base64url_to_bytes(opts["user"]["id"]), rp_id
        )
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([UP | UV | AT])
            + (0).to_bytes(4, "big")
            + AAGUID
            + len(credential_id).to_bytes(2, "big")
            + credential_id
            + _cose(key)
        )
        client_data = _client_data("webauthn.create", opts["challenge"], origin)
        signature = key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        attestation = cbor2.dumps(
            {"fmt": "packed", "attStmt": {"alg": -7, "sig": signature}, "authData": auth_data}
        )
        encoded = bytes_to_base64url(credential_id)
        return json.dumps(
            {
                "id": encoded,
                "rawId": encoded,
                "type": "public-key",
                "response": {
                    "clientDataJSON": bytes_to_base64url(client_data),
                    "attestationObject": bytes_to_base64url(attestation),
                    "transports": ["usb"],
                },
                "clientExtensionResults": {},
            }
        )

    def get(self, options: str | dict[str, Any], origin: str, *, user_verified: bool = True) -> str:
        """The assertion JSON answering request `options` with the first allowed key."""
        opts = json.loads(options) if isinstance(options, str) else options
        allowed = [base64url_to_bytes(c["id"]) for c in opts.get("allowCredentials", [])]
        credential_id = next(c for c in allowed if c in self.credentials)
        credential = self.credentials[credential_id]
        credential.counter += 1
        auth_data = (
            hashlib.sha256(credential.rp_id.encode()).digest()
            + bytes([UP | (UV if user_verified else 0)])
            + credential.counter.to_bytes(4, "big")
        )
        client_data = _client_data("webauthn.get", opts["challenge"], origin)
        signature = credential.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        encoded = bytes_to_base64url(credential_id)
        return json.dumps(
            {
                "id": encoded,
                "rawId": encoded,
                "type": "public-key",
                "response": {
                    "clientDataJSON": bytes_to_base64url(client_data),
                    "authenticatorData": bytes_to_base64url(auth_data),
                    "signature": bytes_to_base64url(signature),
                    "userHandle": bytes_to_base64url(credential.user_handle),
                },
                "clientExtensionResults": {},
            }
        )
