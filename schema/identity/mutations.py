from __future__ import annotations

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth import service
from audora.platform.auth.login import LogInRequest, log_in
from audora.platform.auth.service import IssuedSession
from audora.platform.mail.consent import set_marketing_consent
from audora.schema.context import RequestContext
from audora.schema.identity.inputs import ChangePasswordInput, LogInInput, SignUpInput
from audora.schema.identity.types import (
    Account,
    AuthPayload,
    TotpConfirmation,
    TotpEnrollment,
    User,
    WebAuthnCredential,
)
from audora.schema.permissions import IsAuthenticated
from audora.tenants.identity import account_security
from audora.tenants.registry.signup import SignUpRequest, sign_up

_SIGNED_IN: list[FieldExtension] = [PermissionExtension([IsAuthenticated()])]


async def _payload(info: Info[RequestContext, None], issued: IssuedSession) -> AuthPayload:
    runtime = info.context.runtime
    principal = await service.authenticate(
        runtime.platform_engine,
        runtime.clock,
        issued.token,
        idle_timeout=runtime.settings.session_idle,
        client=info.context.client,
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

    @strawberry.mutation(
        description="MFA_REQUIRED when the user has a second factor and sent neither a "
        "totpCode (a TOTP code or a recovery code) nor a webauthnAssertion; its extensions "
        "carry `methods` (TOTP, WEBAUTHN) and, with WEBAUTHN, `webauthnOptions` for "
        "navigator.credentials.get (JSON)."
    )
    async def log_in(self, info: Info[RequestContext, None], input: LogInInput) -> AuthPayload:
        issued = await log_in(
            info.context.runtime,
            LogInRequest(
                email=input.email,
                password=input.password,
                totp_code=input.totp_code,
                webauthn_assertion=input.webauthn_assertion,
            ),
            info.context.client,
        )
        return await _payload(info, issued)

    @strawberry.mutation(extensions=_SIGNED_IN)
    async def log_out(self, info: Info[RequestContext, None]) -> bool:
        await account_security.log_out(
            info.context.runtime, await info.context.principal(), info.context.client
        )
        return True

    @strawberry.mutation(extensions=_SIGNED_IN, description="End one of your own sessions.")
    async def revoke_session(self, info: Info[RequestContext, None], id: strawberry.ID) -> bool:
        await account_security.revoke_sessions(
            info.context.runtime,
            await info.context.principal(),
            info.context.client,
            session_id=ids.decode(ids.Kind.SESSION, id),
        )
        return True

    @strawberry.mutation(
        extensions=_SIGNED_IN, description="End every session of yours but this one."
    )
    async def revoke_other_sessions(self, info: Info[RequestContext, None]) -> int:
        return await account_security.revoke_sessions(
            info.context.runtime,
            await info.context.principal(),
            info.context.client,
            all_but_current=True,
        )

    @strawberry.mutation(
        extensions=_SIGNED_IN,
        description="Start TOTP enrollment: the secret for an authenticator app. It is "
        "active once confirmTotp gets a code from it.",
    )
    async def enroll_totp(self, info: Info[RequestContext, None]) -> TotpEnrollment:
        made = await account_security.enroll_totp(
            info.context.runtime, await info.context.principal(), info.context.client
        )
        return TotpEnrollment(secret=made.secret, otpauth_uri=made.otpauth_uri)

    @strawberry.mutation(
        extensions=_SIGNED_IN,
        description="Activate TOTP with a first code; returns single-use recovery codes, "
        "shown this once.",
    )
    async def confirm_totp(self, info: Info[RequestContext, None], code: str) -> TotpConfirmation:
        codes = await account_security.confirm_totp(
            info.context.runtime, await info.context.principal(), info.context.client, code
        )
        return TotpConfirmation(recovery_codes=codes)

    @strawberry.mutation(
        name="beginWebAuthnRegistration",
        extensions=_SIGNED_IN,
        description="Start registering a passkey or security key: "
        "PublicKeyCredentialCreationOptions as JSON, for navigator.credentials.create. "
        "Valid for five minutes, for one finishWebAuthnRegistration.",
    )
    async def begin_webauthn_registration(self, info: Info[RequestContext, None]) -> str:
        return await account_security.begin_webauthn_registration(
            info.context.runtime, await info.context.principal()
        )

    @strawberry.mutation(
        name="finishWebAuthnRegistration",
        extensions=_SIGNED_IN,
        description="Register the credential navigator.credentials.create made (its "
        "toJSON(), as a string) under a name; from the next login on it is a second factor.",
    )
    async def finish_webauthn_registration(
        self, info: Info[RequestContext, None], credential: str, name: str
    ) -> WebAuthnCredential:
        row = await account_security.finish_webauthn_registration(
            info.context.runtime,
            await info.context.principal(),
            info.context.client,
            credential=credential,
            name=name,
        )
        return WebAuthnCredential.from_row(row)

    @strawberry.mutation(
        name="removeWebAuthnCredential",
        extensions=_SIGNED_IN,
        description="Remove one of your passkeys or security keys.",
    )
    async def remove_webauthn_credential(
        self, info: Info[RequestContext, None], id: strawberry.ID
    ) -> bool:
        await account_security.remove_webauthn_credential(
            info.context.runtime,
            await info.context.principal(),
            info.context.client,
            ids.decode(ids.Kind.WEBAUTHN_CREDENTIAL, id),
        )
        return True

    @strawberry.mutation(
        extensions=_SIGNED_IN,
        description="Change your password; every other session of yours ends.",
    )
    async def change_password(
        self, info: Info[RequestContext, None], input: ChangePasswordInput
    ) -> bool:
        await account_security.change_password(
            info.context.runtime,
            await info.context.principal(),
            info.context.client,
            current=input.current_password,
            new=input.new_password,
        )
        return True

    @strawberry.mutation(
        extensions=_SIGNED_IN,
        description="Opt in to (true) or out of (false) marketing email from Audora; "
        "returns the choice now recorded. Account and security notices are sent either way.",
    )
    async def set_marketing_consent(self, info: Info[RequestContext, None], opt_in: bool) -> bool:
        runtime = info.context.runtime
        principal = await info.context.principal()
        return await set_marketing_consent(
            runtime.platform_engine, runtime.clock, principal.user_id, opt_in=opt_in
        )
