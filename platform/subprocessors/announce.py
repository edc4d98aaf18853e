"""Announcing a subprocessor that will process call data: every owner of a live account
is emailed at once, and only when the effective date leaves them at least `NOTICE_DAYS`
of notice by the application clock (PROMISES S5).

The announcement is recorded after the mail has gone out, with how many owners there
were and how many messages the mail server accepted, never before: the record is the
evidence the processing gate trusts (registry.require_effective), so it must not claim
a notice that was not given. A failure part way leaves a record with `sent` below
`recipients`, which the gate does not count; running the command again emails every
owner again (a second copy of a notice is harmless, a missing one is not) and records
a new, complete announcement. A process killed between the mail and the record leaves
no record, and the gate refuses until the command is run again: it fails closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from audora.platform.auth.principal import Role
from audora.platform.auth.tables import memberships, users
from audora.platform.errors import AppError, ErrorCode
from audora.platform.mail.sender import Mail, MailError, MailKind
from audora.platform.runtime import Runtime
from audora.platform.subprocessors import records
from audora.platform.subprocessors.records import Announcement
from audora.platform.subprocessors.registry import NOTICE_DAYS, find
from audora.tenants.registry.tables import accounts

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class Announced:
    """What an announcement did: the record it wrote, and whom the mail reached."""

    announcement: Announcement
    delivered: list[str]
    failed: list[str]


async def announce(runtime: Runtime, key: str, effective: date) -> Announced:
    """Email every live account's owner about `key`, then record the announcement."""
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
    delivered: list[str] = []
    failed: list[str] = []
    for owner in owners:
        try:
            await runtime.mail.send(
                Mail(
                    to=(owner,),
                    subject=f"New Audora subprocessor: {entry.name}",
                    text=text,
                    # A notice the data processing agreement requires: transactional.
                    kind=MailKind.TRANSACTIONAL,
                )
            )
        except MailError as exc:
            log.warning("a subprocessor announcement was not delivered: %s", exc)
            failed.append(owner)
        else:
            delivered.append(owner)
    announcement = Announcement(
        subprocessor=entry.key,
        name=entry.name,
        effective=effective,
        announced_at=runtime.clock.now(),
        recipients=len(owners),
        sent=len(delivered),
    )
    await records.record(runtime.platform_engine, announcement)
    return Announced(announcement, delivered, failed)
