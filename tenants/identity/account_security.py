"""What a signed-in user does to their own security: end sessions, enroll TOTP, register
and remove passkeys, change the password. Each change is audited in the account the user
is signed in to."""

from __future__ import annotations

import uuid

from sqlalchemy import RowMapping, select

from audora.platform import ids
from audora.platform.auth import repository, service, totp, webauthn_factor
from audora.platform.auth.passwords import check_policy
from audora.platform.auth.principal import Principal
from audora.platform.auth.service import ClientInfo
from audora.platform.auth.tables import users
from audora.platform.errors import AppError, ErrorCode, bad_input, not_found
from audora.platform.runtime import Runtime
from audora.tenants.audit.security_events import record, session_revoked


async def revoke_sessions(
    runtime: Runtime,
    principal: Principal,
    client: ClientInfo,
    *,
    session_id: uuid.UUID | None = None,
    all_but_current: bool = False,
) -> int:
    ended = await service.revoke(
        runtime.platform_engine,
        runtime.clock,
        principal,
        session_id=session_id,
        all_but_current=all_but_current,
    )
    if session_id is not None and not ended:
        raise not_found("session")
    for ended_id in ended:
        await session_revoked(
            runtime,
            principal.account_id,
            ended_id,
            user_id=principal.user_id,
            ip=client.ip,
            reason="revoked by the user",
        )
    return len(ended)


async def enroll_totp(
    runtime: Runtime, principal: Principal, client: ClientInfo
) -> totp.Enrollment:
    # A session alone must not replace an active second factor: a stolen token could
    # otherwise take the account's TOTP over.
    async with runtime.platform_engine.connect() as conn:
        active = (
            await conn.execute(
                select(users.c.totp_enabled_at).where(users.c.id == principal.user_id)
            )
        ).scalar_one()
    if active is not None:
        raise AppError("TOTP is already active for this user", code=ErrorCode.CONFLICT)
    async with runtime.platform_engine.begin() as conn:
        made = await totp.enroll(
            conn, runtime.keys, principal.user_id, principal.email, runtime.settings.totp_issuer
        )
    await record(
        runtime,
        principal.account_id,
        "mfa.totp_enrollment_started",
        user_id=principal.user_id,
        ip=client.ip,
    )
    return made


async def confirm_totp(
    runtime: Runtime, principal: Principal, client: ClientInfo, code: str
) -> list[str]:
    async with runtime.platform_engine.begin() as conn:
        codes = await totp.confirm(conn, runtime.keys, principal.user_id, code, runtime.clock.now())
    await record(
        runtime, principal.account_id, "mfa.totp_enabled", user_id=principal.user_id, ip=client.ip
    )
    return codes


async def webauthn_credentials(runtime: Runtime, principal: Principal) -> list[RowMapping]:
    async with runtime.platform_engine.connect() as conn:
        return await repository.webauthn_credentials_of(conn, principal.user_id)


async def begin_webauthn_registration(runtime: Runtime, principal: Principal) -> str:
    """Creation options (JSON) for `navigator.credentials.create`."""
    return await webauthn_factor.registration_options(
        runtime, principal.user_id, principal.email, principal.full_name
    )


async def finish_webauthn_registration(
    runtime: Runtime, principal: Principal, client: ClientInfo, *, credential: str, name: str
) -> RowMapping:
    row = await webauthn_factor.register(runtime, principal.user_id, credential, name)
    await record(
        runtime,
        principal.account_id,
        "mfa.webauthn_added",
        user_id=principal.user_id,
        ip=client.ip,
        target=ids.encode(ids.Kind.WEBAUTHN_CREDENTIAL, row["id"]),
        name=row["name"],
    )
    return row


async def remove_webauthn_credential(
    runtime: Runtime, principal: Principal, client: ClientInfo, credential_id: uuid.UUID
) -> None:
    """Another user's credential id is simply not found."""
    async with runtime.platform_engine.begin() as conn:
        removed = await repository.delete_webauthn_credential(
            conn, principal.user_id, credential_id
        )
    if removed is None:
        raise not_found("passkey or security key")
    await record(
        runtime,
        principal.account_id,
        "mfa.webauthn_removed",
        user_id=principal.user_id,
        ip=client.ip,
        target=ids.encode(ids.Kind.WEBAUTHN_CREDENTIAL, credential_id),
        name=removed["name"],
    )


async def change_password(
    runtime: Runtime, principal: Principal, client: ClientInfo, *, current: str, new: str
) -> None:
    check_policy(
        new,
        user_inputs=(principal.email, principal.full_name, principal.account_name),
        field="newPassword",
    )
    async with runtime.platform_engine.connect() as conn:
        stored = (
            await conn.execute(select(users.c.password_hash).where(users.c.id == principal.user_id))
        ).scalar_one()
    # Guessing the current password through a stolen session is throttled like a login.
    attempt = await runtime.throttle.begin(principal.email, client.ip, runtime.clock.now())
    if not await runtime.passwords.verify(stored, current):
        verdict = await runtime.throttle.failed(attempt, runtime.clock.now())
        await record(
            runtime,
            principal.account_id,
            "password.change_failed",
            user_id=principal.user_id,
            ip=client.ip,
            failures=verdict.failures,
        )
        if verdict.locked:
            raise runtime.throttle.locked_out()
        raise bad_input("the current password is incorrect", field="currentPassword")
    await runtime.throttle.succeeded(attempt)
    hashed = await runtime.passwords.hash(new)
    async with runtime.platform_engine.begin() as conn:
        await repository.set_password_hash(
            conn, principal.user_id, hashed, changed_at=runtime.clock.now()
        )
    # Every other session of the user ends, in every account they belong to.
    ended = await service.revoke_everywhere(
        runtime.platform_engine, runtime.clock, principal.user_id, keep=principal.session_id
    )
    await record(
        runtime,
        principal.account_id,
        "password.changed",
        user_id=principal.user_id,
        ip=client.ip,
        sessionsEnded=len(ended),
    )
    for session_id, account_id in ended:
        await session_revoked(
            runtime,
            account_id,
            session_id,
            user_id=principal.user_id,
            ip=client.ip,
            reason="password changed",
        )


async def log_out(runtime: Runtime, principal: Principal, client: ClientInfo) -> None:
    await service.log_out(runtime.platform_engine, runtime.clock, principal)
    await session_revoked(
        runtime,
        principal.account_id,
        principal.session_id,
        user_id=principal.user_id,
        ip=client.ip,
        reason="logged out",
    )
