"""Invitations to a seat: an owner or admin invites an email with a role and a scope; the
invitee accepts with the token the email carried.

- The token is 256 random bits. Only its SHA-256 is stored, it travels by email only
  (sent from the API process, never through Redis), and it is good once, for
  `AUDORA_INVITATION_HOURS`. Inviting the same email again withdraws the earlier
  invitation.
- Nobody grants what they do not hold: no invitation makes an OWNER, and a seat scoped
  to some client profiles invites only into those (profiles it cannot see are
  NOT_FOUND, like ones that do not exist).
- Accepting is one transaction: the user (when new), the membership, the invitation
  marked used and the first session are written together or not at all.
- An email that already has a user: the invitee proves it is them with that user's
  password (throttled like a login) rather than choosing one, and the seat is added to
  the user. If the user has a second factor, a password alone is not enough: they
  accept while signed in (the request carries a session of that same user, whose login
  passed the second factor), else MFA_REQUIRED. The session opened is in the inviting
  account, and counts as a login from its device (it may raise a new-device alert).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform.auth import devices
from audora.platform.auth import repository as auth_repository
from audora.platform.auth.passwords import check_policy
from audora.platform.auth.permissions import Permission, allows
from audora.platform.auth.principal import Principal, Role
from audora.platform.auth.service import ClientInfo, IssuedSession, open_session_in
from audora.platform.auth.tokens import INVITATION_PREFIX, new_token, token_hash
from audora.platform.auth.validation import clean_name, normalize_email
from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.errors import (
    AppError,
    ErrorCode,
    bad_input,
    forbidden,
    not_found,
    unauthenticated,
)
from audora.platform.mail.sender import Mail, MailKind
from audora.platform.runtime import Runtime
from audora.tenants.audit.security_events import record, record_later
from audora.tenants.clients import repository as clients
from audora.tenants.identity import repository

MAX_PROFILES = 500
_MAX_TOKEN = 128


@dataclass(frozen=True)
class InvitationRecord:
    id: uuid.UUID
    email: str
    role: Role
    client_profile_ids: tuple[uuid.UUID, ...] | None
    expires_at: datetime


async def invite_member(
    runtime: Runtime,
    uow: TenantUnitOfWork,
    principal: Principal,
    client: ClientInfo,
    *,
    email: str,
    role: Role,
    client_profile_ids: list[uuid.UUID] | None,
) -> InvitationRecord:
    if not allows(principal.role, Permission.MEMBERS_MANAGE):
        raise forbidden("only owners and admins invite members")
    if role is Role.OWNER:
        raise bad_input("an invitation cannot make an owner", field="role")
    email = normalize_email(email)
    scope = await checked_scope(uow, principal, client_profile_ids)
    now = runtime.clock.now()
    token, digest = new_token(INVITATION_PREFIX)
    made = InvitationRecord(
        uuid.uuid4(), email, role, scope, now + timedelta(hours=runtime.settings.invitation_hours)
    )
    async with runtime.platform_engine.begin() as conn:
        if await repository.is_member(conn, principal.account_id, email):
            raise AppError("this email already has a seat in the account", code=ErrorCode.CONFLICT)
        await repository.insert_invitation(
            conn,
            id=made.id,
            account_id=principal.account_id,
            email=email,
            role=role.value,
            client_profile_ids=list(scope) if scope is not None else None,
            token_hash=digest,
            invited_by=principal.user_id,
            created_at=now,
            expires_at=made.expires_at,
        )
    try:
        await runtime.mail.send(_invitation_mail(principal, made, token))
    except Exception:
        # Undelivered, the invitation could never be accepted: keep nothing of it.
        async with runtime.platform_engine.begin() as conn:
            await repository.delete_invitation(conn, made.id)
        raise
    async with runtime.platform_engine.begin() as conn:
        withdrawn = await repository.revoke_pending(
            conn, principal.account_id, email, now, keep=made.id
        )
    await record(
        runtime,
        principal.account_id,
        "invitation.sent",
        user_id=principal.user_id,
        ip=client.ip,
        target=f"invitation:{made.id}",
        email=email,
        role=role.value,
        clientProfileIds=[str(i) for i in scope] if scope is not None else None,
        expiresAt=made.expires_at.isoformat(),
        replaces=[str(i) for i in withdrawn],
    )
    return made


async def checked_scope(
    uow: TenantUnitOfWork, principal: Principal, requested: list[uuid.UUID] | None
) -> tuple[uuid.UUID, ...] | None:
    """The client profiles a seat is to see, each one checked in the request's tenant
    and within the granting seat's own scope (NOT_FOUND otherwise); None: all of them."""
    if requested is None:
        if principal.client_profile_ids is not None:
            raise forbidden("a seat limited to some client profiles invites only into those")
        return None
    scope = tuple(dict.fromkeys(requested))
    if len(scope) > MAX_PROFILES:
        raise bad_input(
            f"at most {MAX_PROFILES} client profiles per seat", field="clientProfileIds"
        )
    if scope and await clients.existing_ids(uow, scope, principal.client_profile_ids) != set(scope):
        raise not_found("client profile")
    return scope


def _invitation_mail(principal: Principal, made: InvitationRecord, token: str) -> Mail:
    until = made.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"{principal.full_name} <{principal.email}> invites you to the account "
        f'"{principal.account_name}" on Audora, as {made.role.value.lower()}.\n\n'
        f"Your invitation token, good once, until {until}:\n\n"
        f"  {token}\n\n"
        "Accept it with acceptInvitation (token, password, fullName). If you already use "
        "Audora with this email, give that password instead of choosing a new one.\n\n"
        "If you did not expect this, ignore this message: without the token nothing "
        "happens.\n"
    )
    return Mail(
        to=(made.email,),
        subject="Your invitation to Audora",
        text=text,
        kind=MailKind.TRANSACTIONAL,
    )


@dataclass(frozen=True)
class AcceptRequest:
    token: str
    password: str
    full_name: str | None


def _usable(invitation: RowMapping | None, now: datetime) -> RowMapping:
    if invitation is None:
        raise not_found("invitation")
    if invitation["accepted_at"] is not None:
        raise bad_input("this invitation has already been used", field="token")
    if invitation["revoked_at"] is not None:
        raise bad_input("this invitation was withdrawn", field="token")
    if invitation["expires_at"] <= now:
        raise bad_input("this invitation has expired", field="token")
    if invitation["account_status"] != "ACTIVE":
        raise bad_input("the inviting account does not take new members now", field="token")
    return invitation


async def accept_invitation(
    runtime: Runtime, client: ClientInfo, request: AcceptRequest, *, signed_in: Principal | None
) -> IssuedSession:
    token = request.token.strip()
    if not token.startswith(INVITATION_PREFIX) or len(token) > _MAX_TOKEN:
        raise not_found("invitation")
    digest = token_hash(token)
    async with runtime.platform_engine.connect() as conn:
        invitation = _usable(
            await repository.invitation_by_token(conn, digest), runtime.clock.now()
        )
        user = await auth_repository.find_user_by_email(conn, invitation["email"])
    if user is None:
        return await _accept_as_new_user(runtime, client, request, digest, invitation)
    return await _accept_as_existing_user(
        runtime, client, request, digest, user, signed_in, invitation["account_id"]
    )


async def _accept_as_new_user(
    runtime: Runtime,
    client: ClientInfo,
    request: AcceptRequest,
    digest: bytes,
    invitation: RowMapping,
) -> IssuedSession:
    full_name = clean_name(request.full_name or "", field="fullName")
    email = invitation["email"]
    check_policy(request.password, user_inputs=(email, full_name, invitation["account_name"]))
    password_hash = await runtime.passwords.hash(request.password)
    user_id = uuid.uuid4()
    try:
        async with runtime.platform_engine.begin() as conn:
            locked = await _lock_usable(conn, runtime, digest)
            await repository.insert_user(
                conn, id=user_id, email=email, password_hash=password_hash, full_name=full_name
            )
            issued = await _seat(conn, runtime, client, locked, user_id)
    except IntegrityError as exc:
        if "uq_users_email" not in str(exc.orig):
            raise
        raise AppError(
            "a user with this email appeared meanwhile: accept again with its password",
            code=ErrorCode.CONFLICT,
        ) from None
    await devices.remember(runtime, user_id, client)
    await _accepted(runtime, client, invitation, user_id, new_user=True)
    return issued


async def _accept_as_existing_user(
    runtime: Runtime,
    client: ClientInfo,
    request: AcceptRequest,
    digest: bytes,
    user: RowMapping,
    signed_in: Principal | None,
    account_id: uuid.UUID,
) -> IssuedSession:
    email: str = user["email"]
    # Throttled and audited as a login: the password is the user's own.
    attempt = await runtime.throttle.begin(email, client.ip, runtime.clock.now())
    if not await runtime.passwords.verify(user["password_hash"], request.password):
        verdict = await runtime.throttle.failed(attempt, runtime.clock.now())
        record_later(
            runtime,
            account_id,
            "login.failed",
            user_id=user["id"],
            ip=client.ip,
            reason="wrong password accepting an invitation",
            failures=verdict.failures,
        )
        if verdict.locked:
            raise runtime.throttle.locked_out()
        raise unauthenticated(
            "this email already has an Audora user: give that user's password to accept"
        )
    async with runtime.platform_engine.connect() as conn:
        second_factor = user["totp_enabled_at"] is not None or await auth_repository.has_webauthn(
            conn, user["id"]
        )
    if second_factor and (signed_in is None or signed_in.user_id != user["id"]):
        await runtime.throttle.withdraw(attempt)
        raise AppError(
            "this user has a second factor: sign in first, then accept the invitation "
            "with that session's token",
            code=ErrorCode.MFA_REQUIRED,
        )
    await runtime.throttle.succeeded(attempt)
    async with runtime.platform_engine.begin() as conn:
        locked = await _lock_usable(conn, runtime, digest)
        if await repository.is_member(conn, locked["account_id"], email):
            raise AppError("this user already has a seat in the account", code=ErrorCode.CONFLICT)
        issued = await _seat(conn, runtime, client, locked, user["id"])
    await _accepted(runtime, client, locked, user["id"], new_user=False)
    await devices.after_login(runtime, issued, client)
    return issued


async def _lock_usable(conn: AsyncConnection, runtime: Runtime, digest: bytes) -> RowMapping:
    """The invitation again, locked, and still usable: a concurrent acceptance of the
    same token waits here, then finds it used."""
    return _usable(await repository.invitation_for_update(conn, digest), runtime.clock.now())


async def _seat(
    conn: AsyncConnection,
    runtime: Runtime,
    client: ClientInfo,
    invitation: RowMapping,
    user_id: uuid.UUID,
) -> IssuedSession:
    await repository.insert_membership(
        conn,
        account_id=invitation["account_id"],
        user_id=user_id,
        role=invitation["role"],
        client_profile_ids=invitation["client_profile_ids"],
    )
    await repository.mark_accepted(conn, invitation["id"], runtime.clock.now())
    return await open_session_in(
        conn,
        runtime.clock,
        user_id=user_id,
        account_id=invitation["account_id"],
        client=client,
        limit=runtime.settings.session_limit_for(invitation["plan"]),
        idle=runtime.settings.session_idle,
    )


async def _accepted(
    runtime: Runtime,
    client: ClientInfo,
    invitation: RowMapping,
    user_id: uuid.UUID,
    *,
    new_user: bool,
) -> None:
    await record(
        runtime,
        invitation["account_id"],
        "invitation.accepted",
        user_id=user_id,
        ip=client.ip,
        target=f"invitation:{invitation['id']}",
        role=invitation["role"],
        newUser=new_user,
    )
