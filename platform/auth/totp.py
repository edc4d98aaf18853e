"""TOTP second factor (RFC 6238, 30-second steps, 6 digits) and recovery codes.

Enrolling stores a sealed pending secret; confirming it with a first code activates it
and hands out ten single-use recovery codes, of which only hashes are kept. A code is
accepted for the step before, the current one and the next (clock drift), and never
twice: the last step used is remembered, and only later ones pass.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform.auth.tables import recovery_codes, users
from audora.platform.auth.user_secrets import open_for_user, seal_for_user
from audora.platform.errors import AppError, ErrorCode, bad_input
from audora.platform.keys.service import KeyService

RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


@dataclass(frozen=True)
class Enrollment:
    secret: str
    otpauth_uri: str


def _recovery_hash(code: str) -> bytes:
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).digest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def looks_like_totp(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


async def enroll(
    conn: AsyncConnection, keys: KeyService, user_id: uuid.UUID, email: str, issuer: str
) -> Enrollment:
    secret = pyotp.random_base32()
    sealed = await seal_for_user(conn, keys, user_id, "totp_pending", secret)
    await conn.execute(update(users).where(users.c.id == user_id).values(totp_pending=sealed))
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)
    return Enrollment(secret, uri)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if pyotp.utils.strings_equal(code, totp.generate_otp(step)):
            return step
    return None


async def confirm(
    conn: AsyncConnection, keys: KeyService, user_id: uuid.UUID, code: str, now: datetime
) -> list[str]:
    """Activate the pending secret if `code` matches it; the new recovery codes."""
    row = (
        await conn.execute(
            select(users.c.totp_pending).where(users.c.id == user_id).with_for_update()
        )
    ).one()
    if row.totp_pending is None:
        raise AppError("start TOTP enrollment first", code=ErrorCode.CONFLICT)
    secret = await open_for_user(conn, keys, user_id, "totp_pending", bytes(row.totp_pending))
    step = _matching_step(secret, code.strip(), now) if looks_like_totp(code.strip()) else None
    if step is None:
        raise bad_input("the code does not match; check the authenticator's clock", field="code")
    active = await seal_for_user(conn, keys, user_id, "totp_secret", secret)
    await conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(totp_secret=active, totp_pending=None, totp_enabled_at=now, totp_last_step=step)
    )
    await conn.execute(recovery_codes.delete().where(recovery_codes.c.user_id == user_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    await conn.execute(
        recovery_codes.insert(),
        [
            {
                "id": uuid.uuid4(),
                "user_id": user_id,
                "code_hash": _recovery_hash(c),
                "created_at": now,
            }
            for c in codes
        ],
    )
    return codes


async def verify(
    conn: AsyncConnection, keys: KeyService, user_id: uuid.UUID, code: str, now: datetime
) -> str | None:
    """ "totp" or "recovery" if `code` is a good second factor now (and spend it), else
    None. Runs inside the caller's transaction, with the user's row locked."""
    row = (
        await conn.execute(
            select(users.c.totp_secret, users.c.totp_last_step)
            .where(users.c.id == user_id)
            .with_for_update()
        )
    ).one()
    code = code.strip()
    if looks_like_totp(code) and row.totp_secret is not None:
        secret = await open_for_user(conn, keys, user_id, "totp_secret", bytes(row.totp_secret))
        step = _matching_step(secret, code, now)
        if step is None or (row.totp_last_step is not None and step <= row.totp_last_step):
            return None
        await conn.execute(update(users).where(users.c.id == user_id).values(totp_last_step=step))
        return "totp"
    if len(code) > 32:
        return None
    spent = (
        await conn.execute(
            update(recovery_codes)
            .where(
                recovery_codes.c.user_id == user_id,
                recovery_codes.c.code_hash == _recovery_hash(code),
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
            .returning(recovery_codes.c.id)
        )
    ).first()
    return "recovery" if spent is not None else None
