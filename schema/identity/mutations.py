from __future__ import annotations

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from audora.platform.auth import service
from audora.platform.auth.service import IssuedSession
from audora.schema.context import RequestContext
from audora.schema.identity.inputs import LogInInput, SignUpInput
from audora.schema.identity.types import Account, AuthPayload, User
from audora.schema.permissions import IsAuthenticated
from audora.tenants.registry.signup import SignUpRequest, sign_up


async def _payload(info: Info[RequestContext, None], issued: IssuedSession) -> AuthPayload:
    runtime = info.context.runtime
    principal = await service.authenticate(
        runtime.platform_engine,
        runtime.clock,
        issued.token,
        idle_timeout=runtime.settings.session_idle,
    )
    return AuthPayload(
        token=issued.token,
        user=User.from_principal(principal),
        account=Account.from_principal(principal),
    )


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(description="Create an account (a tenant) and its owner.")
    async def sign_up(self, info: Info[RequestContext, None], input: SignUpInput) -> AuthPayload:
        issued = await sign_up(
            info.context.runtime,
            SignUpRequest(
                account_name=input.account_name,
                email=input.email,
                password=input.password,
                full_name=input.full_name,
            ),
            info.context.client,
        )
        return await _payload(info, issued)

    @strawberry.mutation
    async def log_in(self, info: Info[RequestContext, None], input: LogInInput) -> AuthPayload:
        runtime = info.context.runtime
        issued = await service.log_in(
            runtime.platform_engine,
            runtime.clock,
            email=input.email,
            password=input.password,
            client=info.context.client,
        )
        return await _payload(info, issued)

    @strawberry.mutation(extensions=[PermissionExtension([IsAuthenticated()])])
    async def log_out(self, info: Info[RequestContext, None]) -> bool:
        runtime = info.context.runtime
        await service.log_out(
            runtime.platform_engine, runtime.clock, await info.context.principal()
        )
        return True
