"""Logging in: throttle, password, second factor, session, and the audit trail.

Every path that says no (malformed email, unknown email, wrong password) does the same
argon2 work and gives the same answer, so a login reveals nothing about which emails
exist. Throttling is by email and by address before any work is done. A user with a
second factor gets MFA_REQUIRED until the login carries a valid code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from audora.platform.auth import repository, totp
from audora.platform.auth.service import ClientInfo, IssuedSession, open_session
from audora.platform.auth.validation import normalize_email
from audora.platform.errors import AppError, ErrorCode, unauthenticated
from audora.platform.runtime import Runtime
from audora.tenants.audit.security_events import record

BAD_CREDENTIALS = "email or password is incorrect"


@dataclass(frozen=True)
class LogInRequest:
    email: str
    password: str
    totp_code: str | None = None


async def log_in(runtime: Runtime, request: LogInRequest, client: ClientInfo) -> IssuedSession:
    now = runtime.clock.now()
    try:
        email = normalize_email(request.email)
    except AppError:
        # A malformed address is answered like a wrong password, after the same work.
        await runtime.passwords.verify(None, request.password)
        raise unauthenticated(BAD_CREDENTIALS) from None
    await runtime.throttle.check(email, client.ip, now)
    # No connection is held while argon2 runs: slow hashing must not drain the pool.
    async with runtime.platform_engine.connect() as conn:
        user = await repository.find_user_by_email(conn, email)
        membership = await repository.first_membership(conn, user["id"]) if user else None
    ok = await runtime.passwords.verify(user["password_hash"] if user else None, request.password)
    if user is None or membership is None or not ok:
        await _failed(runtime, email, client, user["id"] if user else None, membership, "password")
        raise unauthenticated(BAD_CREDENTIALS)
    user_id: uuid.UUID = user["id"]
    account_id: uuid.UUID = membership["account_id"]

    factor = await _second_factor(runtime, user_id, user["totp_enabled_at"] is not None, request)
    if factor == "missing":
        raise AppError(
            "this account needs a second factor: send totpCode",
            code=ErrorCode.MFA_REQUIRED,
            methods=["TOTP"],
        )
    if factor == "wrong":
        await _failed(runtime, email, client, user_id, membership, "second factor")
        raise unauthenticated("the second-factor code is incorrect or was already used")

    await runtime.throttle.succeeded(email)
    if runtime.passwords.needs_rehash(user["password_hash"]):
        rehashed = await runtime.passwords.hash(request.password)
        async with runtime.platform_engine.begin() as conn:
            await repository.set_password_hash(conn, user_id, rehashed, changed_at=None)
    issued = await open_session(
        runtime.platform_engine,
        runtime.clock,
        user_id=user_id,
        account_id=account_id,
        client=client,
        limit=runtime.settings.session_limit_for(membership["plan"]),
        idle=runtime.settings.session_idle,
    )
    await record(
        runtime,
        account_id,
        "login.succeeded",
        user_id=user_id,
        ip=client.ip,
        session=str(issued.session_id),
        userAgent=client.agent,
        secondFactor=factor,
    )
    for evicted in issued.evicted:
        await record(
            runtime,
            account_id,
            "session.revoked",
            user_id=user_id,
            ip=client.ip,
            target=f"session:{evicted}",
            reason="concurrent session limit",
        )
    return issued


async def _second_factor(
    runtime: Runtime, user_id: uuid.UUID, has_totp: bool, request: LogInRequest
) -> str:
    """ "none" when the user has no second factor, "totp"/"recovery" when one was
    given and good, "missing" or "wrong" otherwise."""
    if not has_totp:
        return "none"
    if not request.totp_code:
        return "missing"
    async with runtime.platform_engine.begin() as conn:
        kind = await totp.verify(
            conn, runtime.keys, user_id, request.totp_code, runtime.clock.now()
        )
    return kind or "wrong"


async def _failed(
    runtime: Runtime,
    email: str,
    client: ClientInfo,
    user_id: uuid.UUID | None,
    membership: object,
    what: str,
) -> None:
    verdict = await runtime.throttle.failed(email, client.ip, runtime.clock.now())
    if user_id is not None and membership is not None:
        account_id: uuid.UUID = membership["account_id"]  # type: ignore[index]
        await record(
            runtime,
            account_id,
            "login.failed",
            user_id=user_id,
            ip=client.ip,
            reason=f"wrong {what}",
            failures=verdict.failures,
        )
        if verdict.locked:
            await record(runtime, account_id, "login.locked_out", user_id=user_id, ip=client.ip)
    if verdict.locked:
        raise runtime.throttle.locked_out()
