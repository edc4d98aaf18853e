"""The key service, as the API and workers see it.

Key-encryption keys (one per tenant, versioned) live only inside the key service: a
separate local process on the embedded stack (`local_server`), AWS KMS in production.
The platform asks it for data keys and to unwrap them; it never receives a KEK, and no
code path here can ask for one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class KeyServiceError(RuntimeError):
    """The key service could not do what was asked (unreachable, refused, unknown key)."""


class KeyDestroyed(KeyServiceError):
    """The tenant's key was destroyed: its data is cryptographically erased."""


class UnwrapFailed(KeyServiceError):
    """A wrapped data key did not authenticate: tampered, another tenant's, or another
    context's."""


@dataclass(frozen=True)
class DataKey:
    plaintext: bytes  # in memory only, never logged or stored
    wrapped: bytes  # safe to store beside the data it protects


@dataclass(frozen=True)
class WrappedKey:
    wrapped: bytes
    context: dict[str, str]


class KeyService(Protocol):
    async def create_tenant_key(self, tenant_id: uuid.UUID) -> str: ...

    async def generate_data_key(self, tenant_id: uuid.UUID, context: dict[str, str]) -> DataKey: ...

    async def decrypt_data_key(
        self, tenant_id: uuid.UUID, wrapped: bytes, context: dict[str, str]
    ) -> bytes: ...

    async def decrypt_data_keys(
        self, tenant_id: uuid.UUID, wrapped: Sequence[WrappedKey]
    ) -> list[bytes | None]:
        """Several of one tenant's data keys at once, in order: None for one that did not
        unwrap (the others still do). A destroyed or unknown tenant key raises, as for one."""
        ...

    async def rewrap(
        self, tenant_id: uuid.UUID, wrapped: bytes, context: dict[str, str]
    ) -> bytes: ...

    async def rotate_tenant_key(self, tenant_id: uuid.UUID) -> int: ...

    async def destroy_tenant_key(self, tenant_id: uuid.UUID) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None:
        """Let go of any connection kept between calls."""
        ...

    def kek_version_of(self, wrapped: bytes) -> int | None:
        """The KEK version a wrapped key was made under, where the service says so."""
        ...
