"""Single-use WebAuthn challenges, kept in Redis between a ceremony's two halves.

A user has at most one pending challenge per purpose (registering a credential, logging
in): issuing a new one replaces the last, and taking one deletes it (GETDEL), so a
challenge answers one ceremony at most, whether that ceremony succeeds or not. Whether
it is still fresh is judged by the application clock against the expiry stored with it,
as the login throttle does; the Redis TTL only collects challenges never taken.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Literal

from redis.asyncio import Redis
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

# The staff console's ceremonies have purposes of their own (platform/staff/keys.py).
Purpose = Literal["register", "login", "staff-register", "staff-login", "staff-activate"]

LIFETIME = timedelta(minutes=5)
# Well past any lifetime, so Redis never drops a challenge the clock still calls fresh.
_GC_SECONDS = 3600
_PREFIX = "webauthn:challenge:"


def _key(purpose: Purpose, user_id: uuid.UUID) -> str:
    return f"{_PREFIX}{purpose}:{user_id}"


async def issue(redis: Redis, purpose: Purpose, user_id: uuid.UUID, now: datetime) -> bytes:
    """A fresh random challenge for `user_id`, replacing any pending one."""
    challenge = secrets.token_bytes(32)
    value = {"challenge": bytes_to_base64url(challenge), "expires": (now + LIFETIME).timestamp()}
    await redis.set(_key(purpose, user_id), json.dumps(value), ex=_GC_SECONDS)
    return challenge


async def take(redis: Redis, purpose: Purpose, user_id: uuid.UUID, now: datetime) -> bytes | None:
    """The pending challenge, now spent; None if there is none or it has expired."""
    raw = await redis.getdel(_key(purpose, user_id))
    if raw is None:
        return None
    stored = json.loads(raw)
    if now.timestamp() > float(stored["expires"]):
        return None
    return base64url_to_bytes(stored["challenge"])
