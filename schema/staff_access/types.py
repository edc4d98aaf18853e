"""Staff access requests as the customer sees them (tenants/staff_access)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from audora.platform import ids
from audora.tenants.staff_access.access import AccessRequestRecord


@strawberry.enum(description="Data classes a staff grant may read.")
class AccessScope(Enum):
    CLIENT_PROFILES = "CLIENT_PROFILES"
    CALLS = "CALLS"
    TRANSCRIPTS = "TRANSCRIPTS"
    DOCUMENTS = "DOCUMENTS"


@strawberry.enum
class AccessRequestStatus(Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    DENIED = "DENIED"
    EXPIRED = "EXPIRED"


@strawberry.enum(description="Why a grant ended.")
class AccessGrantEnd(Enum):
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"
    ENDED = "ENDED"


@strawberry.type(description="An approved request the staff member activated.")
class AccessGrant:
    id: strawberry.ID
    expires_at: datetime
    ended_at: datetime | None
    end_reason: AccessGrantEnd | None


@strawberry.type(
    description="A staff member's request to read this account's data, read-only, for "
    "a while. Unanswered, it expires 12 hours after it was made."
)
class AccessRequest:
    id: strawberry.ID
    staff_name: str
    reason: str
    ticket: str
    scope: list[AccessScope]
    requested_minutes: int
    status: AccessRequestStatus
    expires_at: datetime
    requested_at: datetime
    decided_at: datetime | None
    note: str | None
    grant: AccessGrant | None

    @classmethod
    def from_record(cls, record: AccessRequestRecord) -> AccessRequest:
        grant = None
        if record.grant_id is not None and record.grant_expires_at is not None:
            grant = AccessGrant(
                id=strawberry.ID(ids.encode(ids.Kind.ACCESS_GRANT, record.grant_id)),
                expires_at=record.grant_expires_at,
                ended_at=record.grant_ended_at,
                end_reason=AccessGrantEnd(record.grant_end_reason)
                if record.grant_end_reason
                else None,
            )
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.ACCESS_REQUEST, record.id)),
            staff_name=record.staff_name,
            reason=record.reason,
            ticket=record.ticket,
            scope=[AccessScope(s) for s in record.scope],
            requested_minutes=record.requested_minutes,
            status=AccessRequestStatus(record.status),
            expires_at=record.expires_at,
            requested_at=record.created_at,
            decided_at=record.decided_at,
            note=record.decision_note,
            grant=grant,
        )
