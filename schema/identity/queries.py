from __future__ import annotations

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from audora.platform.auth import repository
from audora.platform.auth.principal import Principal
from audora.platform.mail.consent import marketing_opt_in
from audora.schema.context import RequestContext
from audora.schema.identity.types import Account, Session, User, WebAuthnCredential
from audora.schema.permissions import IsAuthenticated
from audora.tenants.identity import account_security


@strawberry.type
class Viewer:
    user: User
    account: Account
    _principal: strawberry.Private[Principal]

    @strawberry.field
    async def sessions(self, info: Info[RequestContext, None]) -> list[Session]:
        runtime = info.context.runtime
        idle = runtime.settings.session_idle
        now = runtime.clock.now()
        async with runtime.platform_engine.connect() as conn:
            rows = await repository.live_sessions(
                conn, self._principal.user_id, self._principal.account_id
            )
        return [
            Session.from_row(row, current_id=self._principal.session_id)
            for row in rows
            if now - row["last_seen_at"] <= idle
        ]

    @strawberry.field(
        name="webAuthnCredentials",
        description="Your passkeys and security keys, oldest first.",
    )
    async def webauthn_credentials(
        self, info: Info[RequestContext, None]
    ) -> list[WebAuthnCredential]:
        rows = await account_security.webauthn_credentials(info.context.runtime, self._principal)
        return [WebAuthnCredential.from_row(row) for row in rows]


@strawberry.type
class IdentityQuery:
    @strawberry.field(extensions=[PermissionExtension([IsAuthenticated()])])
    async def me(self, info: Info[RequestContext, None]) -> Viewer:
        principal = await info.context.principal()
        user = User.from_principal(principal)
        user.marketing_opt_in = await marketing_opt_in(
            info.context.runtime.platform_engine, principal.user_id
        )
        return Viewer(
            user=user,
            account=Account.from_principal(principal),
            _principal=principal,
        )
