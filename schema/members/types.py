from __future__ import annotations

from datetime import datetime

import strawberry

from audora.platform import ids
from audora.schema.identity.types import Role
from audora.tenants.identity.invitations import InvitationRecord


@strawberry.type(description="A seat offered to an email; the token went to that email only.")
class Invitation:
    id: strawberry.ID
    email: str
    role: Role
    client_profile_ids: list[strawberry.ID] | None = strawberry.field(
        description="The client profiles the seat will see; null: all of them."
    )
    expires_at: datetime

    @classmethod
    def from_record(cls, record: InvitationRecord) -> Invitation:
        scope = record.client_profile_ids
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.INVITATION, record.id)),
            email=record.email,
            role=Role(record.role.value),
            client_profile_ids=(
                [strawberry.ID(ids.encode(ids.Kind.CLIENT_PROFILE, i)) for i in scope]
                if scope is not None
                else None
            ),
            expires_at=record.expires_at,
        )
