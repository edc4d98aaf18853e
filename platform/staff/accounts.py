"""Staff accounts, their enrollment and their sign-in to the console.

An operator makes a staff account with `audora staff create`, which prints a one-time
enrollment link (only its hash is kept; it works once, for `staff_enrollment_hours`).
Following it, the staff member sets a password and registers a security key together:
an account has no password until it has a key, so no staff session can exist without
one. Signing in takes the password, then an assertion of the registered key answering
a challenge issued only after the password was right; the session token (an HttpOnly
cookie) lasts `staff_session_hours` at most and ends at sign-out.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import RowMapping, select, update
from sqlalchemy.exc import IntegrityError

from audora.platform.auth.passwords import check_policy
from audora.platform.auth.service import ClientInfo
from audora.platform.auth.tokens import new_token, token_hash
from audora.platform.auth.validation import clean_name, normalize_email
from audora.platform.errors import AppError, ErrorCode, not_found, unauthenticated
from audora.platform.runtime import Runtime
from audora.platform.staff import audit, keys
from audora.platform.staff.tables import staff_sessions, staff_users

ENROLLMENT_PREFIX = "ase_"
SESSION_PREFIX = "ass_"
# Between the password and the key: which staff member a sign-in is for.
_PENDING = "staff:signin:"
PENDING_SECONDS = 300


@dataclass(frozen=True)
class StaffSession:
    id: uuid.UUID
    staff_id: uuid.UUID
    email: str
    full_name: str
    expires_at: datetime


async def create_staff(runtime: Runtime, email: str, full_name: str) -> tuple[uuid.UUID, str]:
    """A staff account awaiting enrollment, and its one-time enrollment link."""
    address = normalize_email(email)
    full_name = clean_name(full_name, field="full_name")
    token, digest = new_token(ENROLLMENT_PREFIX)
    staff_id = uuid.uuid4()
    now = runtime.clock.now()
    try:
        async with runtime.platform_engine.begin() as conn:
            await conn.execute(
                staff_users.insert().values(
                    id=staff_id,
                    email=address,
                    full_name=full_name,
                    enrollment_token_hash=digest,
                    enrollment_expires_at=now
                    + timedelta(hours=runtime.settings.staff_enrollment_hours),
                    created_at=now,
                )
            )
            await audit.staff_only(
                conn, now, "staff.created", staff_id=staff_id, details={"email": address}
            )
    except IntegrityError:
        raise AppError("a staff account with this email exists", code=ErrorCode.CONFLICT) from None
    return staff_id, f"{runtime.settings.mail_base_url}/admin/enroll/{token}"


async def pending_enrollment(runtime: Runtime, token: str) -> RowMapping:
    """The account a live enrollment link enrolls; NOT_FOUND otherwise."""
    async with runtime.platform_engine.connect() as conn:
        row = (
            (
                await conn.execute(
                    select(staff_users).where(
                        staff_users.c.enrollment_token_hash == token_hash(token),
                        staff_users.c.disabled_at.is_(None),
                    )
                )
            )
            .mappings()
            .first()
        )
    if row is None or row["enrollment_expires_at"] < runtime.clock.now():
        raise not_found("enrollment link")
    return row


async def enrollment_options(runtime: Runtime, token: str) -> str:
    """Creation options for the key of the account the link enrolls."""
    staff = await pending_enrollment(runtime, token)
    async with runtime.platform_engine.connect() as conn:
        return await keys.registration_options(
            runtime, conn, staff["id"], staff["email"], staff["full_name"]
        )


async def finish_enrollment(
    runtime: Runtime, token: str, password: str, credential: str, client: ClientInfo
) -> None:
    """Set the password and register the key, together, and spend the link."""
    staff = await pending_enrollment(runtime, token)
    check_policy(password, user_inputs=(staff["email"], staff["full_name"]))
    password_hash = await runtime.passwords.hash(password)
    now = runtime.clock.now()
    async with runtime.platform_engine.begin() as conn:
        attestation = await keys.register(runtime, conn, staff["id"], credential, now)
        spent = await conn.execute(
            update(staff_users)
            .where(
                staff_users.c.id == staff["id"],
                staff_users.c.enrollment_token_hash == token_hash(token),
            )
            .values(
                password_hash=password_hash,
                enrollment_token_hash=None,
                enrollment_expires_at=None,
                enrolled_at=now,
            )
        )
        if spent.rowcount != 1:
            raise not_found("enrollment link")
        await audit.staff_only(
            conn, now, "staff.enrolled", staff_id=staff["id"], ip=client.ip, details=attestation
        )


def _throttled(email: str) -> str:
    # The customers' login throttle, on a name of its own: a staff address that is also
    # a customer's does not share its failures.
    return "staff:" + email


async def start_sign_in(
    runtime: Runtime, email: str, password: str, client: ClientInfo
) -> tuple[str, str]:
    """After a right password, a pending sign-in and the assertion options for the
    staff member's keys. A wrong password, an unknown email and an account without a
    key are all the same UNAUTHENTICATED; failures are throttled and lock out as the
    customers' logins do."""
    try:
        address = normalize_email(email)
    except AppError:
        raise unauthenticated("wrong email or password") from None
    now = runtime.clock.now()
    attempt = await runtime.throttle.begin(_throttled(address), client.ip, now)
    async with runtime.platform_engine.connect() as conn:
        staff = (
            (
                await conn.execute(
                    select(staff_users).where(
                        staff_users.c.email == address, staff_users.c.disabled_at.is_(None)
                    )
                )
            )
            .mappings()
            .first()
        )
    stored = staff["password_hash"] if staff is not None else None
    if not await runtime.passwords.verify(stored, password) or staff is None:
        if (await runtime.throttle.failed(attempt, now)).locked:
            raise runtime.throttle.locked_out()
        raise unauthenticated("wrong email or password")
    # The password was right; whether the sign-in is, the key will tell.
    await runtime.throttle.withdraw(attempt)
    async with runtime.platform_engine.connect() as conn:
        if not await keys.has_key(conn, staff["id"]):
            raise unauthenticated("no security key is registered: staff sign in with one")
        options = await keys.assertion_options(runtime, conn, staff["id"], "staff-login")
    pending = secrets.token_urlsafe(32)
    value = json.dumps({"staff": str(staff["id"]), "email": address})
    await runtime.redis.set(_PENDING + pending, value, ex=PENDING_SECONDS)
    return pending, options


async def finish_sign_in(
    runtime: Runtime, pending: str, assertion: str, client: ClientInfo
) -> tuple[str, StaffSession]:
    """The session token, once the key answered the sign-in's challenge."""
    raw = await runtime.redis.getdel(_PENDING + pending)
    if raw is None:
        raise unauthenticated("the sign-in expired: start again")
    stored = json.loads(raw)
    staff_id = uuid.UUID(stored["staff"])
    now = runtime.clock.now()
    attempt = await runtime.throttle.begin(_throttled(stored["email"]), client.ip, now)
    async with runtime.platform_engine.begin() as conn:
        if not await keys.verify_assertion(runtime, conn, staff_id, "staff-login", assertion):
            await audit.staff_only(
                conn, now, "staff.sign_in_refused", staff_id=staff_id, ip=client.ip
            )
            await conn.commit()
            if (await runtime.throttle.failed(attempt, now)).locked:
                raise runtime.throttle.locked_out()
            raise unauthenticated("the security key's answer was refused")
        await runtime.throttle.succeeded(attempt)
        token, digest = new_token(SESSION_PREFIX)
        session_id = uuid.uuid4()
        expires = now + timedelta(hours=runtime.settings.staff_session_hours)
        await conn.execute(
            staff_sessions.insert().values(
                id=session_id,
                token_hash=digest,
                staff_id=staff_id,
                created_at=now,
                expires_at=expires,
                ip=client.ip,
                user_agent=client.agent,
            )
        )
        await audit.staff_only(
            conn, now, "staff.signed_in", staff_id=staff_id, target=str(session_id), ip=client.ip
        )
    session = await authenticate(runtime, token)
    return token, session


async def authenticate(runtime: Runtime, token: str | None) -> StaffSession:
    """The live staff session behind `token`; UNAUTHENTICATED otherwise."""
    if not token or not token.startswith(SESSION_PREFIX):
        raise unauthenticated("staff sign-in required")
    async with runtime.platform_engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    staff_sessions.c.id,
                    staff_sessions.c.staff_id,
                    staff_sessions.c.expires_at,
                    staff_users.c.email,
                    staff_users.c.full_name,
                )
                .join(staff_users, staff_users.c.id == staff_sessions.c.staff_id)
                .where(
                    staff_sessions.c.token_hash == token_hash(token),
                    staff_sessions.c.ended_at.is_(None),
                    staff_sessions.c.expires_at > runtime.clock.now(),
                    staff_users.c.disabled_at.is_(None),
                )
            )
        ).first()
    if row is None:
        raise unauthenticated("staff sign-in required")
    return StaffSession(row.id, row.staff_id, row.email, row.full_name, row.expires_at)


async def sign_out(runtime: Runtime, session: StaffSession, client: ClientInfo) -> None:
    """End the sign-in; grants opened from it end with it (`ended_with_session`)."""
    now = runtime.clock.now()
    async with runtime.platform_engine.begin() as conn:
        await conn.execute(
            update(staff_sessions)
            .where(staff_sessions.c.id == session.id, staff_sessions.c.ended_at.is_(None))
            .values(ended_at=now)
        )
        await audit.staff_only(
            conn, now, "staff.signed_out", staff_id=session.staff_id, ip=client.ip
        )


def options_payload(pending: str, options: str) -> str:
    return json.dumps({"pending": pending, "options": json.loads(options)})
