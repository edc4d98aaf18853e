"""The customer's decision on a staff access request, signed with a tenant-bound key.

The signature is HMAC-SHA256 over the canonical request and decision (sorted-key JSON
of every field that matters: who asked, for which tenant, why, which ticket, which data
classes, how long; who decided, when, what), keyed by HKDF from the tenant's data key of
purpose `staff-approvals`. That data key exists only wrapped by the tenant's KEK in the
key service: someone who edits an access request in the database (widening its scope,
lengthening it, or flipping DENIED to APPROVED) cannot make a signature that verifies.
Activation and every staff request verify it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from audora.platform.crypto.envelope import IntegrityError
from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.keys.service import KeyService
from audora.tenants.keys.data_keys import current_key, key_for


class Fields(Protocol):
    """A row mapping or a dict: what `canonical` reads by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


PURPOSE = "staff-approvals"
_INFO = b"audora staff access approval v1"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def canonical(row: Fields) -> bytes:
    """The signed fields of an access request row, decision included."""
    return json.dumps(
        {
            "id": str(row["id"]),
            "account": str(row["account_id"]),
            "staff": str(row["staff_id"]),
            "reason": row["reason"],
            "ticket": row["ticket"],
            "scope": sorted(row["scope"]),
            "minutes": int(row["requested_minutes"]),
            "requestedAt": _iso(row["created_at"]),
            "status": row["status"],
            "decidedBy": str(row["decided_by"]) if row["decided_by"] else None,
            "decidedAt": _iso(row["decided_at"]),
            "note": row["decision_note"],
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def _mac(data_key: bytes, row: Fields) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(data_key)
    return hmac.new(key, canonical(row), hashlib.sha256).digest()


async def sign(
    uow: TenantUnitOfWork, keys: KeyService, account_id: uuid.UUID, row: Fields
) -> tuple[bytes, int]:
    """The signature of `row` (with its decision filled in), and the key version."""
    key = await current_key(uow, keys, account_id, PURPOSE)
    return _mac(key.plaintext, row), key.version


async def verify(
    uow: TenantUnitOfWork, keys: KeyService, account_id: uuid.UUID, row: Fields
) -> bool:
    """Whether `row` carries a signature its tenant's key made over exactly its fields."""
    if row["signature"] is None or row["key_version"] is None:
        return False
    try:
        data_key = await key_for(uow, keys, account_id, PURPOSE, int(row["key_version"]))
    except IntegrityError:
        return False
    return hmac.compare_digest(_mac(data_key, row), bytes(row["signature"]))
