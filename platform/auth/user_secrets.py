"""Secrets that belong to a user rather than to a tenant (the TOTP secret): sealed under
the user's own data key, which the platform's KEK wraps in the key service.

A user may belong to several accounts, so these cannot live under one tenant's key. The
platform KEK is one more key in the key service, made on first use.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform.auth.tables import users
from audora.platform.crypto.envelope import Binding, open_sealed, seal
from audora.platform.keys.service import DataKey, KeyDestroyed, KeyService, KeyServiceError

# The key service's id for the platform's own KEK; no tenant has it.
PLATFORM_KEY_ID = uuid.UUID(int=0)


def _context(user_id: uuid.UUID) -> dict[str, str]:
    return {"purpose": "user-secrets", "user": str(user_id)}


def _binding(user_id: uuid.UUID, column: str) -> Binding:
    return Binding(PLATFORM_KEY_ID, f"users/{user_id}/{column}")


async def _generate(keys: KeyService, user_id: uuid.UUID) -> DataKey:
    try:
        return await keys.generate_data_key(PLATFORM_KEY_ID, _context(user_id))
    except KeyDestroyed:
        raise
    except KeyServiceError:
        # The first user secret of this deployment: make the platform KEK, then retry.
        await keys.create_tenant_key(PLATFORM_KEY_ID)
        return await keys.generate_data_key(PLATFORM_KEY_ID, _context(user_id))


async def _user_key(conn: AsyncConnection, keys: KeyService, user_id: uuid.UUID) -> bytes:
    wrapped = (
        await conn.execute(
            select(users.c.wrapped_key).where(users.c.id == user_id).with_for_update()
        )
    ).scalar_one()
    if wrapped is None:
        made = await _generate(keys, user_id)
        await conn.execute(
            update(users).where(users.c.id == user_id).values(wrapped_key=made.wrapped)
        )
        return made.plaintext
    return await keys.decrypt_data_key(PLATFORM_KEY_ID, bytes(wrapped), _context(user_id))


async def seal_for_user(
    conn: AsyncConnection, keys: KeyService, user_id: uuid.UUID, column: str, value: str
) -> bytes:
    key = await _user_key(conn, keys, user_id)
    return seal(key, 1, _binding(user_id, column), value.encode())


async def open_for_user(
    conn: AsyncConnection, keys: KeyService, user_id: uuid.UUID, column: str, sealed: bytes
) -> str:
    key = await _user_key(conn, keys, user_id)
    return open_sealed(key, _binding(user_id, column), sealed).decode()
