"""E3 and the bad-input rules for ciphertext: AES-256-GCM bound to tenant, object and key
version; tampered, moved, truncated or unknown ciphertext is an integrity error, never
garbage plaintext."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest

from audora.platform.crypto.envelope import (
    Binding,
    IntegrityError,
    key_version_of,
    open_sealed,
    seal,
)
from audora.platform.crypto.stream import CHUNK, decrypt_stream, encrypt_stream

KEY = os.urandom(32)
TENANT_A, TENANT_B = uuid.uuid4(), uuid.uuid4()
NOTE = Binding(TENANT_A, "client_profiles/notes/1")


def test_a_sealed_value_opens_only_where_it_belongs() -> None:
    sealed = seal(KEY, 3, NOTE, b"budget: 40k EUR")
    assert b"40k" not in sealed
    assert key_version_of(sealed) == 3
    assert open_sealed(KEY, NOTE, sealed) == b"budget: 40k EUR"
    for elsewhere in (Binding(TENANT_B, NOTE.object_id), Binding(TENANT_A, "other/2")):
        with pytest.raises(IntegrityError):
            open_sealed(KEY, elsewhere, sealed)


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s[:-1],  # truncated
        lambda s: s[:10],  # truncated into the header
        lambda s: s[:-1] + bytes([s[-1] ^ 1]),  # tampered tag
        lambda s: s[:30] + bytes([s[30] ^ 1]) + s[31:],  # tampered body
        lambda s: s[:4] + (7).to_bytes(4, "big") + s[8:],  # relabelled key version
        lambda s: b"XXXX" + s[4:],  # not ours
    ],
)
def test_damaged_ciphertext_is_an_integrity_error(damage: object) -> None:
    sealed = seal(KEY, 1, NOTE, b"secret roadmap")
    with pytest.raises(IntegrityError):
        open_sealed(KEY, NOTE, damage(sealed))  # type: ignore[operator]


def test_the_wrong_key_is_an_integrity_error() -> None:
    with pytest.raises(IntegrityError):
        open_sealed(os.urandom(32), NOTE, seal(KEY, 1, NOTE, b"x"))


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _collect(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([piece async for piece in stream])


AUDIO = Binding(TENANT_A, "recordings/abc")


@pytest.mark.parametrize("length", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17])
async def test_streams_of_any_length_round_trip(length: int) -> None:
    plain = os.urandom(length)
    sealed = await _collect(encrypt_stream(KEY, 2, AUDIO, _chunks(plain, 10_000)))
    assert await _collect(decrypt_stream(KEY, AUDIO, _chunks(sealed, 7_777))) == plain


async def test_a_stream_cut_at_a_chunk_boundary_or_reordered_fails() -> None:
    plain = os.urandom(3 * CHUNK + 5)
    sealed = await _collect(encrypt_stream(KEY, 2, AUDIO, _chunks(plain, CHUNK)))
    header, sealed_chunk = 19, CHUNK + 16
    body = sealed[header:]
    chunks = [body[i : i + sealed_chunk] for i in range(0, len(body), sealed_chunk)]
    for broken in (
        sealed[:header] + b"".join(chunks[:3]),  # last chunk dropped
        sealed[:header] + chunks[1] + chunks[0] + b"".join(chunks[2:]),  # reordered
        sealed[:header] + b"".join(chunks) + chunks[-1],  # appended
        sealed[:-1],  # truncated
    ):
        with pytest.raises(IntegrityError):
            await _collect(decrypt_stream(KEY, AUDIO, _chunks(broken, 4096)))
    with pytest.raises(IntegrityError):
        await _collect(
            decrypt_stream(KEY, Binding(TENANT_B, "recordings/abc"), _chunks(sealed, 4096))
        )
