"""Closing an account (L3): the owner closes it, or billing lapses its subscription; for
30 days of grace it is read-only (`schema/read_only.py` refuses every mutation of an
account that is not ACTIVE) but its members still sign in, read and export it; within
the grace the owner may reopen it; after it, the purge (`purge.py`) deletes it.

- closeAccount: OWNER only (account:manage), and the confirmation must be the account's
  name, exactly: typing it is the deliberate act, and the error says what to type.
- A lapsed subscription (`audora tenants lapse`, billing's entry point) takes the same
  path with status LAPSED: same grace, same read-only state, same purge. It is told
  apart from a closure because the owner did not ask for it: the owner cannot reopen a
  lapse (billing renews it: `audora tenants reopen`), so a lapse is not undone by the
  owner without paying, and a closure is not undone by billing.
- Every change is written to the tenant's audit log, committed before the status
  changes (as for suspension): the status never moves without its record.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from audora.platform.auth.permissions import Permission, allows
from audora.platform.auth.principal import Principal
from audora.platform.billing.records import BillingKind, BillingRecord, record_billing
from audora.platform.db.tenant_binding import TenantRef
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.errors import AppError, ErrorCode, bad_input, forbidden
from audora.platform.mail.sender import Mail, MailError, MailKind
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append_alone
from audora.tenants.identity import repository as identity
from audora.tenants.lifecycle.schedule import DataClass, period_of
from audora.tenants.registry.tables import accounts

log = logging.getLogger(__name__)

ACTIVE = "ACTIVE"
CLOSED = "CLOSED"
LAPSED = "LAPSED"
PURGED = "PURGED"
# Statuses in grace: read-only, exportable, purged once `purge_after` has passed.
IN_GRACE = frozenset({CLOSED, LAPSED})


@dataclass(frozen=True)
class AccountState:
    account_id: uuid.UUID
    status: str
    closed_at: datetime | None
    purge_after: datetime | None


async def account_state(runtime: Runtime, account_id: uuid.UUID) -> AccountState:
    async with runtime.platform_engine.connect() as conn:
        row = (
            await conn.execute(
                select(accounts.c.status, accounts.c.closed_at, accounts.c.purge_after).where(
                    accounts.c.id == account_id
                )
            )
        ).first()
    if row is None:
        raise AppError("account not found", code=ErrorCode.NOT_FOUND)
    return AccountState(account_id, row.status, row.closed_at, row.purge_after)


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


async def _owners(runtime: Runtime, account_id: uuid.UUID) -> list[str]:
    async with runtime.platform_engine.connect() as conn:
        return await identity.owner_emails(conn, account_id)


async def _tell_owners(runtime: Runtime, account_id: uuid.UUID, subject: str, text: str) -> None:
    """Mail the owners; a mail failure is logged, never undoes the change it reports."""
    try:
        await runtime.mail.send(
            Mail(
                tuple(await _owners(runtime, account_id)),
                subject,
                text,
                kind=MailKind.TRANSACTIONAL,
            )
        )
    except MailError:
        log.exception("could not mail the owners of %s about %r", account_id, subject)


async def _transition(
    runtime: Runtime,
    account_id: uuid.UUID,
    *,
    before: frozenset[str],
    after: str,
    entry: AuditEntry,
    closing: bool,
    billing: BillingKind | None = None,
) -> AccountState:
    """Move the account from one of `before` to `after`, its audit entry committed first;
    a change billing made is kept as a billing record in the same transaction."""
    state = await account_state(runtime, account_id)
    now = runtime.clock.now()
    if state.status not in before:
        raise AppError(
            f"the account is {state.status}; only a {' or '.join(sorted(before))} account "
            f"can become {after}",
            code=ErrorCode.CONFLICT,
        )
    if not closing and state.purge_after is not None and now >= state.purge_after:
        raise AppError(
            f"the grace period ended at {_when(state.purge_after)}: the account is being "
            "deleted and can no longer be reopened",
            code=ErrorCode.CONFLICT,
        )
    purge_after = now + grace() if closing else None
    details = {**entry.details, "status": {"before": state.status, "after": after}}
    if purge_after is not None:
        details["purgeAfter"] = purge_after.isoformat()
    await append_alone(
        runtime.tenant_engines,
        TenantRef(tenant_schema(account_id)),
        now,
        AuditEntry(entry.actor, entry.action, f"account:{account_id}", entry.ip, details),
    )
    async with runtime.platform_engine.begin() as conn:
        changed = await conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id, accounts.c.status == state.status)
            .values(
                status=after,
                closed_at=now if closing else None,
                purge_after=purge_after,
            )
        )
        if changed.rowcount != 1:
            raise AppError("the account's status changed meanwhile", code=ErrorCode.CONFLICT)
        if billing is not None:
            await record_billing(conn, BillingRecord(account_id, billing, now))
    return AccountState(account_id, after, now if closing else None, purge_after)


def grace() -> timedelta:
    """The grace period, from the retention schedule (transcripts and documents are kept
    for the subscription plus this)."""
    return period_of(DataClass.CALL_CONTENT)


def _closed_mail(state: AccountState, how: str) -> str:
    assert state.purge_after is not None  # noqa: S101 (a closing sets it)
    return (
        f"{how}\n\n"
        "For the next 30 days the account is read-only: its members can still sign in, "
        "read everything, and an owner or admin can request an export of all its data "
        "(requestExport).\n\n"
        f"On {_when(state.purge_after)} everything in it is permanently deleted: its "
        "encryption keys are destroyed, its database schema and storage deleted, and a "
        "deletion certificate is mailed to you.\n"
    )


async def close_account(
    runtime: Runtime, principal: Principal, confirm: str, *, ip: str | None
) -> AccountState:
    """The owner closes the account; `confirm` must be the account's name."""
    if not allows(principal.role, Permission.ACCOUNT_MANAGE):
        raise forbidden("only an owner closes the account")
    if confirm.strip() != principal.account_name.strip():
        await audit_refusal(
            runtime, principal, "account.close_refused", "confirmation did not match", ip=ip
        )
        raise bad_input(
            f'to confirm, type the account\'s name exactly as it is: "{principal.account_name}"',
            field="confirm",
        )
    state = await _transition(
        runtime,
        principal.account_id,
        before=frozenset({ACTIVE}),
        after=CLOSED,
        entry=AuditEntry(f"user:{principal.user_id}", "account.closed", ip=ip),
        closing=True,
    )
    await _tell_owners(
        runtime,
        principal.account_id,
        "Audora: your account was closed",
        _closed_mail(
            state,
            f"{principal.full_name} <{principal.email}> closed the Audora account "
            "you own. Changed your mind? An owner can reopen it (reopenAccount) until the "
            "date below.",
        ),
    )
    return state


async def reopen_account(runtime: Runtime, principal: Principal, *, ip: str | None) -> AccountState:
    """The owner undoes a closure within its grace period."""
    if not allows(principal.role, Permission.ACCOUNT_MANAGE):
        raise forbidden("only an owner reopens the account")
    state = await _transition(
        runtime,
        principal.account_id,
        before=frozenset({CLOSED}),
        after=ACTIVE,
        entry=AuditEntry(f"user:{principal.user_id}", "account.reopened", ip=ip),
        closing=False,
    )
    await _tell_owners(
        runtime,
        principal.account_id,
        "Audora: your account was reopened",
        f"{principal.full_name} <{principal.email}> reopened the Audora account you "
        "own. It is active again and will not be deleted.\n",
    )
    return state


async def lapse_account(
    runtime: Runtime, account_id: uuid.UUID, *, actor: str, reason: str
) -> AccountState:
    """Billing's entry point: the subscription lapsed; the account enters its grace."""
    state = await _transition(
        runtime,
        account_id,
        before=frozenset({ACTIVE}),
        after=LAPSED,
        entry=AuditEntry(actor, "account.lapsed", details={"reason": reason.strip()[:500]}),
        closing=True,
        billing=BillingKind.SUBSCRIPTION_LAPSED,
    )
    await _tell_owners(
        runtime,
        account_id,
        "Audora: your subscription lapsed",
        _closed_mail(
            state,
            "The subscription of the Audora account you own has lapsed. Renewing it "
            "before the date below makes the account active again.",
        ),
    )
    return state


async def renew_account(runtime: Runtime, account_id: uuid.UUID, *, actor: str) -> AccountState:
    """Billing's entry point: a lapsed subscription renewed within its grace."""
    state = await _transition(
        runtime,
        account_id,
        before=frozenset({LAPSED}),
        after=ACTIVE,
        entry=AuditEntry(actor, "account.renewed"),
        closing=False,
        billing=BillingKind.SUBSCRIPTION_RENEWED,
    )
    await _tell_owners(
        runtime,
        account_id,
        "Audora: your subscription was renewed",
        "The Audora account you own is active again and will not be deleted.\n",
    )
    return state


async def audit_refusal(
    runtime: Runtime, principal: Principal, action: str, reason: str, *, ip: str | None
) -> None:
    """Record a refused lifecycle request (closing without the confirmation, a role
    without the permission) in the tenant's audit log, in a transaction of its own."""
    await append_alone(
        runtime.tenant_engines,
        principal.tenant,
        runtime.clock.now(),
        AuditEntry(
            f"user:{principal.user_id}",
            action,
            f"account:{principal.account_id}",
            ip,
            {"reason": reason},
        ),
    )
