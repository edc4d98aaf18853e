from __future__ import annotations

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth import service
from audora.platform.auth.permissions import Permission
from audora.platform.auth.principal import Role
from audora.schema.context import RequestContext
from audora.schema.identity.types import Account, AuthPayload, User
from audora.schema.members.inputs import AcceptInvitationInput, InviteMemberInput
from audora.schema.members.types import Invitation
from audora.schema.permissions import requires
from audora.tenants.identity import invitations


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
        profile_ids = (
            [
                ids.decode(ids.Kind.CLIENT_PROFILE, i, field="clientProfileIds")
                for i in input.client_profile_ids
            ]
            if input.client_profile_ids is not None
            else None
        )
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
