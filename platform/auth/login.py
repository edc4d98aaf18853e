"""Logging in: throttle, password, second factor, session, and the audit trail.

Every path that says no (malformed email, unknown email, wrong password) does the same
argon2 work and gives the same answer, so a login reveals nothing about which emails
exist. Throttling is by email and by address before any work is done. A user with a
second factor (TOTP, or WebAuthn: `webauthn_factor.py`) gets MFA_REQUIRED until the
login carries a valid code or assertion; MFA_REQUIRED comes only after a correct
password, so what it carries (the methods, WebAuthn options) tells a stranger nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import RowMapping

from audora.platform.auth import devices, repository, totp, webauthn_factor
from audora.platform.auth.service import ClientInfo, IssuedSession, open_session
from audora.platform.auth.throttle import Attempt
from audora.platform.auth.validation import normalize_email
from audora.platform.errors import AppError, ErrorCode, unauthenticated
from audora.platform.metrics import auth_events
from audora.platform.runtime import Runtime
from audora.tenants.audit.security_events import record, record_later, session_revoked

BAD_CREDENTIALS = "email or password is incorrect"
# Looked up in place of an unknown email's user, so both paths run the same queries.
NOBODY = uuid.UUID(int=0)


@dataclass(frozen=True)
class LogInRequest:
    email: str
    password: str
    totp_code: str | None = None
    webauthn_assertion: str | None = None


async def log_in(runtime: Runtime, request: LogInRequest, client: ClientInfo) -> IssuedSession:
    now = runtime.clock.now()
    try:
        email = normalize_email(request.email)
    except AppError:
        # A malformed address is answered like a wrong password, after the same work,
        # and counts against the address like one.
        await runtime.throttle.check_address(client.ip, now)
        await runtime.passwords.verify(None, request.password)
        await runtime.throttle.failed_address(client.ip, now)
        await auth_events.login_failed(runtime, "malformed_email", None, locked=False)
        raise unauthenticated(BAD_CREDENTIALS) from None
    # Counted as a failure from here until it succeeds: concurrent guesses are throttled.
    try:
        attempt = await runtime.throttle.begin(email, client.ip, now)
    except AppError as refused:
        await auth_events.login_throttled(runtime, refused.code.value)
        raise
    # No connection is held while argon2 runs: slow hashing must not drain the pool.
    # The same two queries run whether or not the email exists.
    async with runtime.platform_engine.connect() as conn:
        user = await repository.find_user_by_email(conn, email)
        membership = await repository.first_membership(conn, user["id"] if user else NOBODY)
    ok = await runtime.passwords.verify(user["password_hash"] if user else None, request.password)
    if user is None or membership is None or not ok:
        await _failed(
            runtime, attempt, client, user["id"] if user else None, membership, "password"
        )
        raise unauthenticated(BAD_CREDENTIALS)
    user_id: uuid.UUID = user["id"]
    account_id: uuid.UUID = membership["account_id"]

    # Raises MFA_REQUIRED when the user has a second factor and the login carried none:
    # the attempt is then withdrawn, neither a failure nor a success.
    try:
        factor = await _second_factor(
            runtime, user_id, user["totp_enabled_at"] is not None, request
        )
    except AppError as needed:
        if needed.code is ErrorCode.MFA_REQUIRED:
            await runtime.throttle.withdraw(attempt)
        raise
    if factor == "wrong":
        await _failed(runtime, attempt, client, user_id, membership, "second factor")
        raise unauthenticated("the second factor is incorrect or was already used")

    await runtime.throttle.succeeded(attempt)
    if runtime.passwords.needs_rehash(user["password_hash"]):
        rehashed = await runtime.passwords.hash(request.password)
        async with runtime.platform_engine.begin() as conn:
            # Only over the hash that was verified: a password changed meanwhile stays.
            await repository.set_password_hash(
                conn, user_id, rehashed, changed_at=None, replacing=user["password_hash"]
            )
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
        await session_revoked(
            runtime,
            account_id,
            evicted,
            user_id=user_id,
            ip=client.ip,
            reason="concurrent session limit",
        )
    await devices.after_login(runtime, issued, client)
    return issued


async def _second_factor(
    runtime: Runtime, user_id: uuid.UUID, has_totp: bool, request: LogInRequest
) -> str:
    """ "none" when the user has no second factor; "webauthn", "totp" or "recovery" when
    one of the user's methods was given and is good; "wrong" when it is not. When none
    was given, raises MFA_REQUIRED."""
    async with runtime.platform_engine.connect() as conn:
        passkeys = await repository.webauthn_credentials_of(conn, user_id)
    if request.webauthn_assertion and passkeys:
        good = await webauthn_factor.verify_assertion(runtime, user_id, request.webauthn_assertion)
        return "webauthn" if good else "wrong"
    if request.totp_code and has_totp:
        async with runtime.platform_engine.begin() as conn:
            kind = await totp.verify(
                conn, runtime.keys, user_id, request.totp_code, runtime.clock.now()
            )
        return kind or "wrong"
    if not has_totp and not passkeys:
        return "none"
    raise await _mfa_required(runtime, user_id, has_totp, passkeys)


async def _mfa_required(
    runtime: Runtime, user_id: uuid.UUID, has_totp: bool, passkeys: list[RowMapping]
) -> AppError:
    """MFA_REQUIRED naming the user's methods (`TOTP`, `WEBAUTHN`) in `methods`, with
    `webauthnOptions` (PublicKeyCredentialRequestOptions as JSON, for a fresh
    challenge) when the user has a passkey or security key."""
    methods: list[str] = []
    send: list[str] = []
    extensions: dict[str, object] = {}
    if has_totp:
        methods.append("TOTP")
        send.append("totpCode")
    if passkeys:
        methods.append("WEBAUTHN")
        send.append("webauthnAssertion")
        extensions["webauthnOptions"] = await webauthn_factor.login_options(
            runtime, user_id, passkeys
        )
    return AppError(
        f"this account needs a second factor: send {' or '.join(send)}",
        code=ErrorCode.MFA_REQUIRED,
        methods=methods,
        **extensions,
    )


async def _failed(
    runtime: Runtime,
    attempt: Attempt,
    client: ClientInfo,
    user_id: uuid.UUID | None,
    membership: object,
    what: str,
) -> None:
    verdict = await runtime.throttle.failed(attempt, runtime.clock.now())
    await auth_events.login_failed(
        runtime,
        "second_factor" if what == "second factor" else "password",
        attempt.email,
        locked=verdict.locked,
    )
    if user_id is not None and membership is not None:
        account_id: uuid.UUID = membership["account_id"]  # type: ignore[index]
        # Written after the answer goes out: a known email's failure must not take
        # longer to answer than an unknown one's.
        record_later(
            runtime,
            account_id,
            "login.failed",
            user_id=user_id,
            ip=client.ip,
            reason=f"wrong {what}",
            failures=verdict.failures,
        )
        if verdict.locked:
            record_later(runtime, account_id, "login.locked_out", user_id=user_id, ip=client.ip)
    if verdict.locked:
        raise runtime.throttle.locked_out()
