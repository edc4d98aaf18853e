from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from audora.platform import ids
from audora.schema.identity.types import Role, User
from audora.tenants.identity.invitations import InvitationRecord
from audora.tenants.identity.members import MemberRecord


def _profile_ids(scope: tuple[uuid.UUID, ...] | None) -> list[strawberry.ID] | None:
    if scope is None:
        return None
    return [strawberry.ID(ids.encode(ids.Kind.CLIENT_PROFILE, i)) for i in scope]


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
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.INVITATION, record.id)),
            email=record.email,
            role=Role(record.role.value),
            client_profile_ids=_profile_ids(record.client_profile_ids),
            expires_at=record.expires_at,
        )


@strawberry.type(description="A seat in the account: a user, their role and their scope.")
class Member:
    user: User
    role: Role
    client_profile_ids: list[strawberry.ID] | None = strawberry.field(
        description="The client profiles the seat sees; null: all of them. A caller "
        "whose own seat is scoped sees only the profiles it sees itself named here."
    )
    joined_at: datetime

    @classmethod
    def from_record(cls, record: MemberRecord) -> Member:
        role = Role(record.role.value)
        return cls(
            user=User(
                id=strawberry.ID(ids.encode(ids.Kind.USER, record.user_id)),
                email=record.email,
                full_name=record.full_name,
                role=role,
            ),
            role=role,
            client_profile_ids=_profile_ids(record.client_profile_ids),
            joined_at=record.joined_at,
        )
