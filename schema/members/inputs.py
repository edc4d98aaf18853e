from __future__ import annotations

import strawberry

from audora.schema.identity.types import Role


@strawberry.input
class InviteMemberInput:
    email: str
    role: Role
    client_profile_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Limit the seat to these client profiles; null: all."
    )


@strawberry.input
class AcceptInvitationInput:
    token: str
    password: str = strawberry.field(
        description="A new password; or, if the email already has a user, that user's."
    )
    full_name: str | None = strawberry.field(
        default=None, description="Required for a new user; ignored for an existing one."
    )


@strawberry.input(description="Fields left out keep their value.")
class UpdateMemberInput:
    user_id: strawberry.ID
    role: Role | None = strawberry.field(
        default=None, description="Only an owner makes an owner or changes one."
    )
    client_profile_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Limit the seat to these client profiles; null: all of them; left out: "
        "unchanged. Owners and admins always see all (null, or left out).",
    )
