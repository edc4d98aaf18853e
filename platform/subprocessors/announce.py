"""Announcing a subprocessor that will process call data: every owner of a live account
is emailed at once, and only when the effective date leaves them at least `NOTICE_DAYS`
of notice by the application clock (PROMISES S5)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from audora.platform.auth.principal import Role
from audora.platform.auth.tables import memberships, users
from audora.platform.errors import AppError, ErrorCode
from audora.platform.mail.sender import Mail, MailKind
from audora.platform.runtime import Runtime
from audora.platform.subprocessors.registry import NOTICE_DAYS, find
from audora.tenants.registry.tables import accounts

# Accounts whose owners still hear from us: not closed, lapsed or purged.
LIVE_STATUSES = ("ACTIVE", "SUSPENDED")


async def owner_emails(runtime: Runtime) -> list[str]:
    query = (
        select(users.c.email)
        .distinct()
        .select_from(
            memberships.join(users, users.c.id == memberships.c.user_id).join(
                accounts, accounts.c.id == memberships.c.account_id
            )
        )
        .where(memberships.c.role == Role.OWNER.value, accounts.c.status.in_(LIVE_STATUSES))
        .order_by(users.c.email)
    )
    async with runtime.platform_engine.connect() as conn:
        return [row[0] for row in await conn.execute(query)]


async def announce(runtime: Runtime, key: str, effective: date) -> list[str]:
    """Email every live account's owner about `key`; the addresses written to."""
    entry = find(key)
    if entry is None:
        raise AppError(f"{key!r} is not in the subprocessor registry", code=ErrorCode.NOT_FOUND)
    if entry.effective != effective:
        raise AppError(
            f"{entry.name} is registered as effective {entry.effective.isoformat()},"
            f" not {effective.isoformat()}",
            code=ErrorCode.BAD_USER_INPUT,
        )
    earliest = runtime.clock.now().date() + timedelta(days=NOTICE_DAYS)
    if effective < earliest:
        raise AppError(
            f"the effective date must be at least {NOTICE_DAYS} days ahead"
            f" (on or after {earliest.isoformat()})",
            code=ErrorCode.BAD_USER_INPUT,
        )
    owners = await owner_emails(runtime)
    text = (
        f"From {effective.isoformat()}, Audora will use a new subprocessor:\n\n"
        f"  {entry.name}: {entry.category}\n"
        f"  Data processed: {entry.data_processed}\n"
        f"  Region: {entry.region}\n"
        f"  Zero retention: {entry.zero_retention.value} ({entry.retention_how})\n"
        f"  Training use: {entry.training_use}\n\n"
        f"No data is sent to it before that date. The full list: "
        f"{runtime.settings.mail_base_url}/subprocessors\n"
    )
    for owner in owners:
        await runtime.mail.send(
            Mail(
                to=(owner,),
                subject=f"New Audora subprocessor: {entry.name}",
                text=text,
                # A notice the data processing agreement requires: transactional.
                kind=MailKind.TRANSACTIONAL,
            )
        )
    return owners
