"""Password policy and hashing (argon2id).

The policy: 12 to 256 characters, and not guessable: zxcvbn scores it against its
dictionaries of breached and common passwords, keyboard patterns, dates and the user's
own details (email, name, account name). Hashing takes its cost from settings; a hash
made under other parameters is redone at the next successful login. Hashing runs in a
worker thread: argon2 is deliberately slow and would stall the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from audora.platform.config import Settings
from audora.platform.errors import bad_input

MIN_LENGTH = 12
# Long enough for any passphrase, short enough that a huge body costs nothing: checked
# before any other work, and at login the excess is never hashed.
MAX_LENGTH = 256
# zxcvbn's matching grows with length; its own limit is 72 characters.
_SCORED_CHARACTERS = 72
MIN_SCORE = 3  # zxcvbn: 3 is "safely unguessable: moderate protection from offline attacks"


def check_policy(
    password: str, *, user_inputs: Iterable[str] = (), field: str = "password"
) -> None:
    if len(password) < MIN_LENGTH:
        raise bad_input(f"password must be at least {MIN_LENGTH} characters", field=field)
    if len(password) > MAX_LENGTH:
        raise bad_input(f"password must be at most {MAX_LENGTH} characters", field=field)
    inputs = [part for value in user_inputs for part in _parts(value)]
    result = zxcvbn(password[:_SCORED_CHARACTERS], user_inputs=inputs)
    if result["score"] < MIN_SCORE:
        warning = result["feedback"].get("warning") or "it is too easy to guess"
        raise bad_input(
            f"choose a less guessable password: {warning.rstrip('.').lower()}", field=field
        )


def _parts(value: str) -> list[str]:
    """An email's local part and domain, a name's words: what a guess would try."""
    lowered = value.lower()
    return [lowered, *lowered.replace("@", " ").replace(".", " ").split()]


class Passwords:
    """argon2id with the deployment's parameters."""

    def __init__(self, settings: Settings) -> None:
        self.hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )

    @cached_property
    def _dummy(self) -> str:
        """A real hash of a random password, verified against when there is no user, so
        an unknown email costs the same work as a wrong password. Made on first need:
        every process opens a runtime (CLI commands too), few of them check passwords."""
        return self.hasher.hash("audora-dummy-password-for-timing")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    def verify_sync(self, stored: str, password: str) -> bool:
        """The one place a password is checked against a hash (tests count the calls)."""
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    async def verify(self, stored: str | None, password: str) -> bool:
        """Verify, doing the same work whether or not there is a stored hash."""
        candidate = password[:MAX_LENGTH]
        if stored is None:
            # The dummy hash is read in the thread too: made there the first time, it
            # stalls no other request.
            await asyncio.to_thread(lambda: self.verify_sync(self._dummy, candidate))
            return False
        ok = await asyncio.to_thread(self.verify_sync, stored, candidate)
        return ok and len(password) <= MAX_LENGTH

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)
