"""Password policy and hashing (argon2id).

Hashing runs in a worker thread: argon2 is deliberately slow and would stall every other
request on the event loop.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from audora.platform.errors import bad_input

MIN_LENGTH = 12
# Long enough for any passphrase, short enough that hashing a huge body costs nothing.
MAX_LENGTH = 256

_hasher = PasswordHasher()
# A real hash of a random password, verified against when the user does not exist, so
# an unknown email costs the same work as a wrong password.
_DUMMY_HASH = _hasher.hash("audora-dummy-password-for-timing")


def check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise bad_input(f"password must be at least {MIN_LENGTH} characters", field="password")
    if len(password) > MAX_LENGTH:
        raise bad_input(f"password must be at most {MAX_LENGTH} characters", field="password")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Verify, doing the same work whether or not there is a stored hash."""
    if len(password) > MAX_LENGTH:
        password = password[:MAX_LENGTH]
    if stored is None:
        await asyncio.to_thread(_verify, _DUMMY_HASH, password)
        return False
    return await asyncio.to_thread(_verify, stored, password)
