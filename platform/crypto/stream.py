"""Chunked AES-256-GCM for large objects (recordings): any size encrypts and decrypts in
bounded memory, and plaintext never needs to touch a disk.

Each chunk is sealed on its own with a nonce made of a random per-object prefix and the
chunk's index, and the AAD carries the binding, the index and whether it is the last
chunk. Reordered, dropped, duplicated or appended chunks, and a stream cut short, all
fail authentication (the STREAM construction of Hoang, Reyhanitabar, Rogaway, Vizár).

Layout: `AUS1 | key version (4) | nonce prefix (7) | chunk size (4)`, then per chunk the
ciphertext and its 16-byte tag.
"""

from __future__ import annotations

import os
import struct
from collections.abc import AsyncIterable, AsyncIterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from audora.platform.crypto.envelope import Binding, IntegrityError

MAGIC = b"AUS1"
CHUNK = 64 * 1024
TAG = 16
_HEADER = struct.Struct(">4sI7sI")


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


def _aad(binding: Binding, version: int, index: int, last: bool) -> bytes:
    return binding.aad(version) + struct.pack(">I?", index, last)


async def _rechunk(source: AsyncIterable[bytes], size: int) -> AsyncIterator[bytes]:
    buffer = bytearray()
    async for piece in source:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    yield bytes(buffer)


async def encrypt_stream(
    key: bytes, key_version: int, binding: Binding, source: AsyncIterable[bytes]
) -> AsyncIterator[bytes]:
    aead = AESGCM(key)
    prefix = os.urandom(7)
    yield _HEADER.pack(MAGIC, key_version, prefix, CHUNK)
    index = 0
    pending: bytes | None = None
    # One chunk of look-ahead: the last chunk is sealed as last.
    async for chunk in _rechunk(source, CHUNK):
        if pending is not None:
            yield aead.encrypt(
                _nonce(prefix, index, False), pending, _aad(binding, key_version, index, False)
            )
            index += 1
        pending = chunk
    yield aead.encrypt(
        _nonce(prefix, index, True), pending or b"", _aad(binding, key_version, index, True)
    )


def _parse_header(header: bytes | bytearray) -> tuple[int, bytes, int]:
    """Key version, nonce prefix and chunk size of an encrypted stream."""
    if len(header) < _HEADER.size:
        raise IntegrityError("encrypted stream is truncated")
    magic, version, prefix, chunk_size = _HEADER.unpack_from(header)
    if magic != MAGIC:
        raise IntegrityError("not an Audora encrypted stream")
    return int(version), bytes(prefix), int(chunk_size)


async def decrypt_stream(
    key: bytes, binding: Binding, source: AsyncIterable[bytes]
) -> AsyncIterator[bytes]:
    aead = AESGCM(key)
    buffer = bytearray()
    iterator = source.__aiter__()
    while len(buffer) < _HEADER.size:
        try:
            buffer += await iterator.__anext__()
        except StopAsyncIteration:
            raise IntegrityError(
                "encrypted stream is truncated", object_id=binding.object_id
            ) from None
    version, prefix, chunk_size = _parse_header(buffer)
    del buffer[: _HEADER.size]
    sealed_size = chunk_size + TAG
    index = 0
    exhausted = False
    while True:
        while not exhausted and len(buffer) <= sealed_size:
            try:
                buffer += await iterator.__anext__()
            except StopAsyncIteration:
                exhausted = True
        last = exhausted and len(buffer) <= sealed_size
        piece = bytes(buffer[:sealed_size]) if not last else bytes(buffer)
        del buffer[: len(piece)]
        try:
            yield aead.decrypt(
                _nonce(prefix, index, last), piece, _aad(binding, version, index, last)
            )
        except InvalidTag:
            raise IntegrityError(
                "encrypted stream failed authentication", object_id=binding.object_id
            ) from None
        if last:
            return
        index += 1
