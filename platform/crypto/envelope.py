"""AES-256-GCM sealing of one value under a data key, bound to where it belongs.

A sealed value is `AUD1 | key version (4 bytes) | nonce (12) | ciphertext+tag`. The
additional authenticated data names the tenant, the object and the key version, so a
ciphertext copied to another tenant's row, another object, or relabelled with another
key version fails to open, and every failure is an `IntegrityError`, never garbage.
"""

from __future__ import annotations

import os
import struct
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"AUD1"
NONCE_BYTES = 12
KEY_BYTES = 32
_HEADER = struct.Struct(">4sI")


class IntegrityError(Exception):
    """A ciphertext that is not what it claims: tampered, truncated, moved or unknown.
    `object_id` names what failed to open, where known (never its content)."""

    def __init__(self, message: str, *, object_id: str | None = None) -> None:
        super().__init__(message if object_id is None else f"{object_id}: {message}")
        self.object_id = object_id


@dataclass(frozen=True)
class Binding:
    """What a ciphertext belongs to; any difference on opening is an integrity error."""

    tenant_id: uuid.UUID
    object_id: str

    def aad(self, key_version: int) -> bytes:
        return b"|".join(
            (MAGIC, self.tenant_id.bytes, self.object_id.encode(), str(key_version).encode())
        )


def key_version_of(sealed: bytes) -> int:
    """The version of the data key a sealed value needs, read from its header."""
    if len(sealed) < _HEADER.size + NONCE_BYTES + 16:
        raise IntegrityError("ciphertext is truncated")
    magic, version = _HEADER.unpack_from(sealed)
    if magic != MAGIC:
        raise IntegrityError("not an Audora ciphertext")
    return int(version)


def seal(key: bytes, key_version: int, binding: Binding, plaintext: bytes) -> bytes:
    if len(key) != KEY_BYTES:
        raise ValueError("data keys are 256-bit")
    nonce = os.urandom(NONCE_BYTES)
    body = AESGCM(key).encrypt(nonce, plaintext, binding.aad(key_version))
    return _HEADER.pack(MAGIC, key_version) + nonce + body


def open_sealed(key: bytes, binding: Binding, sealed: bytes) -> bytes:
    try:
        version = key_version_of(sealed)
    except IntegrityError as exc:
        raise IntegrityError(str(exc), object_id=binding.object_id) from None
    nonce = sealed[_HEADER.size : _HEADER.size + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(
            nonce, sealed[_HEADER.size + NONCE_BYTES :], binding.aad(version)
        )
    except InvalidTag:
        raise IntegrityError(
            "ciphertext failed authentication", object_id=binding.object_id
        ) from None
