"""Sign-up: validate, hash the password, provision the account, open the first session."""

from __future__ import annotations

from dataclasses import dataclass

from audora.platform.auth import devices
from audora.platform.auth.passwords import check_policy
from audora.platform.auth.repository import email_taken
from audora.platform.auth.service import ClientInfo, IssuedSession, open_session
from audora.platform.auth.validation import clean_name, normalize_email
from audora.platform.errors import AppError, ErrorCode
from audora.platform.runtime import Runtime
from audora.tenants.audit.security_events import record
from audora.tenants.migrate.streams import head
from audora.tenants.provisioning.service import NewAccount, provision_account


@dataclass(frozen=True)
class SignUpRequest:
    account_name: str
    email: str
    password: str
    full_name: str


async def sign_up(runtime: Runtime, request: SignUpRequest, client: ClientInfo) -> IssuedSession:
    # Every check that needs no I/O runs first, so bad input costs nothing.
    account_name = clean_name(request.account_name, field="accountName")
    full_name = clean_name(request.full_name, field="fullName")
    email = normalize_email(request.email)
    check_policy(request.password, user_inputs=(email, full_name, account_name))
    # The contract answers CONFLICT for a taken email, which tells the caller it exists:
    # each such answer counts against the caller's address like a failed login, so
    # emails cannot be probed in bulk.
    await runtime.throttle.check_address(client.ip, runtime.clock.now())
    async with runtime.platform_engine.connect() as conn:
        taken = await email_taken(conn, email)
    if taken:
        await runtime.throttle.failed_address(client.ip, runtime.clock.now())
        raise AppError("an account with this email already exists", code=ErrorCode.CONFLICT)
    provisioned = await provision_account(
        runtime.tenant_engines,
        runtime.storage,
        runtime.keys,
        NewAccount(
            name=account_name,
            owner_email=email,
            owner_password_hash=await runtime.passwords.hash(request.password),
            owner_full_name=full_name,
        ),
        bucket_prefix=runtime.settings.bucket_prefix,
        tenant_head=head("tenant"),
    )
    issued = await open_session(
        runtime.platform_engine,
        runtime.clock,
        user_id=provisioned.owner_id,
        account_id=provisioned.account_id,
        client=client,
        limit=runtime.settings.session_limit,
        idle=runtime.settings.session_idle,
    )
    # The first device: later logins from any other are alerted.
    await devices.remember(runtime, issued.user_id, client)
    await record(
        runtime,
        provisioned.account_id,
        "account.created",
        user_id=provisioned.owner_id,
        ip=client.ip,
        session=str(issued.session_id),
        userAgent=client.agent,
    )
    return issued
