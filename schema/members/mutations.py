from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth import service
from audora.platform.auth.permissions import Permission
from audora.platform.auth.principal import Role
from audora.schema.context import RequestContext
from audora.schema.identity.types import Account, AuthPayload, User
from audora.schema.members.inputs import (
    AcceptInvitationInput,
    InviteMemberInput,
    UpdateMemberInput,
)
from audora.schema.members.types import Invitation, Member
from audora.schema.permissions import requires
from audora.tenants.identity import invitations, members


def _profile_ids(public_ids: list[strawberry.ID] | None) -> list[uuid.UUID] | None:
    if public_ids is None:
        return None
    return [ids.decode(ids.Kind.CLIENT_PROFILE, i, field="clientProfileIds") for i in public_ids]


@strawberry.type
class MembersMutation:
    @strawberry.mutation(
        **requires(Permission.MEMBERS_MANAGE),
        description="Owners and admins: offer a seat to an email. The token is emailed, "
        "never answered; inviting the same email again withdraws the earlier invitation.",
    )
    async def invite_member(
        self, info: Info[RequestContext, None], input: InviteMemberInput
    ) -> Invitation:
        principal = await info.context.principal()
        profile_ids = _profile_ids(input.client_profile_ids)
        made = await invitations.invite_member(
            info.context.runtime,
            await info.context.tenant_uow(),
            principal,
            info.context.client,
            email=input.email,
            role=Role(input.role.value),
            client_profile_ids=profile_ids,
        )
        return Invitation.from_record(made)

    @strawberry.mutation(
        **requires(Permission.MEMBERS_MANAGE),
        description="Owners and admins: change a member's role or client profiles; it "
        "applies from the member's next request. Only an owner makes, changes or demotes "
        "an owner; nobody changes their own role; the last owner stays one.",
    )
    async def update_member(
        self, info: Info[RequestContext, None], input: UpdateMemberInput
    ) -> Member:
        scope = input.client_profile_ids
        record = await members.update_member(
            info.context.runtime,
            await info.context.tenant_uow(),
            await info.context.principal(),
            info.context.client,
            ids.decode(ids.Kind.USER, input.user_id, field="userId"),
            role=Role(input.role.value) if input.role is not None else None,
            client_profile_ids=members.KEEP if scope is strawberry.UNSET else _profile_ids(scope),
        )
        return Member.from_record(record)

    @strawberry.mutation(
        **requires(Permission.MEMBERS_MANAGE),
        description="Owners and admins: take a member's seat away. Their sessions in this "
        "account end at once. Only an owner removes an owner; the last owner stays.",
    )
    async def remove_member(self, info: Info[RequestContext, None], user_id: strawberry.ID) -> bool:
        await members.remove_member(
            info.context.runtime,
            await info.context.principal(),
            info.context.client,
            ids.decode(ids.Kind.USER, user_id, field="userId"),
        )
        return True

    @strawberry.mutation(
        description="Take the seat an invitation offers and sign in to its account. An "
        "email that already has a user gives that user's password; if that user has a "
        "second factor, accept while signed in as them (MFA_REQUIRED otherwise)."
    )
    async def accept_invitation(
        self, info: Info[RequestContext, None], input: AcceptInvitationInput
    ) -> AuthPayload:
        context = info.context
        runtime = context.runtime
        issued = await invitations.accept_invitation(
            runtime,
            context.client,
            invitations.AcceptRequest(input.token, input.password, input.full_name),
            signed_in=await context.principal() if context.token else None,
        )
        principal = await service.authenticate(
            runtime.platform_engine,
            runtime.clock,
            issued.token,
            idle_timeout=runtime.settings.session_idle,
            client=context.client,
        )
        return AuthPayload(
            token=issued.token,
            user=User.from_principal(principal),
            account=Account.from_principal(principal),
        )
