"""Public ids: a short type prefix and the row's UUID, e.g. `cli_0f3c...`.

A malformed id, or one of another type, is BAD_USER_INPUT; a well-formed id that names
nothing the caller may see is NOT_FOUND (the services decide that, after the lookup).
"""

from __future__ import annotations

import re
import uuid
from enum import StrEnum

from audora.platform.errors import bad_input


class Kind(StrEnum):
    ACCOUNT = "acc"
    USER = "usr"
    SESSION = "ses"
    WEBAUTHN_CREDENTIAL = "wac"
    CLIENT_PROFILE = "cli"
    CALL = "cal"
    RECORDING = "rec"
    DOCUMENT = "doc"
    INVITATION = "inv"
    AUDIT_EVENT = "aud"
    DATA_EXPORT = "exp"
    INTEGRATION = "itg"
    PUSH = "psh"
    ACCESS_REQUEST = "acr"
    ACCESS_GRANT = "acg"
    VULNERABILITY_REPORT = "vul"
    INCIDENT = "inc"


_SHAPE = re.compile(r"\A([a-z]{3})_([0-9a-f]{32})\Z")


def encode(kind: Kind, value: uuid.UUID) -> str:
    return f"{kind.value}_{value.hex}"


def decode(kind: Kind, public_id: str, *, field: str = "id") -> uuid.UUID:
    match = _SHAPE.match(public_id) if len(public_id) < 64 else None
    if match is None or match.group(1) != kind.value:
        raise bad_input(
            f"{field} is not a valid {kind.name.lower().replace('_', ' ')} id", field=field
        )
    return uuid.UUID(hex=match.group(2))
