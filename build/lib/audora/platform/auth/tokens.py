"""Opaque session tokens: 256 random bits for the client, only their SHA-256 for us."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "aud_"  # noqa: S105  (a public prefix that marks Audora tokens in scanners)


def new_token() -> tuple[str, bytes]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
