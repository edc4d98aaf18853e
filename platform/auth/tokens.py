"""Opaque tokens (sessions, invitations, revoke links): 256 random bits for the client,
only their SHA-256 for us. The prefix tells a reader, or a secret scanner, what a token
is for; it adds no secrecy."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "aud_"  # noqa: S105  (a public prefix that marks Audora tokens in scanners)
INVITATION_PREFIX = "aui_"
REVOKE_LINK_PREFIX = "aur_"


def new_token(prefix: str = TOKEN_PREFIX) -> tuple[str, bytes]:
    token = prefix + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
