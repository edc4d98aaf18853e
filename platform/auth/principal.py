"""Who is calling: built from a session, only by `service.authenticate`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from audora.platform.db.tenant_binding import TenantRef


class Role(StrEnum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"
    VIEWER = "VIEWER"


@dataclass(frozen=True)
class StaffGrant:
    """A staff member reading through an activated access grant
    (tenants/staff_access/grants.py): the permissions are the grant's scope, all reads."""

    staff_id: uuid.UUID
    staff_name: str
    grant_id: uuid.UUID
    request_id: uuid.UUID
    permissions: frozenset[str]


@dataclass(frozen=True)
class Principal:
    session_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    full_name: str
    account_id: uuid.UUID
    account_name: str
    account_status: str
    role: Role
    tenant: TenantRef
    # None: the seat sees every client profile.
    client_profile_ids: tuple[uuid.UUID, ...] | None
    # Set only for staff under a break-glass grant: then `role` is not consulted, the
    # grant's scope is (`permissions.principal_allows`).
    staff: StaffGrant | None = None
    # Set while the account is closed or lapsed: when its grace ends and it is purged.
    account_purge_after: datetime | None = None
    # Set while `audora tenants move` copies the account to another cluster: a short
    # read-only window of its own, not a suspension (schema/read_only.py).
    account_moving: bool = False
