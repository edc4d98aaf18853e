"""Telling the affected owners (R3): every owner of each affected account gets a message
of their own saying what data was affected, how, and what was done; the account is
marked told only when all of its owners' messages were handed to the mail server.

Accounts already told are skipped, so this may run again (`audora incident notify`,
the console's button) after a mail failure until every account is told.

Each account told gets `incident.notified` in its own audit log (the customer reads it
in `auditLog`), with the incident's id and public title only: no staff name, no
address, nothing of what the other accounts were told. It is written (and committed)
before the account is marked told, so a failure leaves the account untold, retried and
alerted on, rather than told without a trace; a retry after such a failure may write
the entry twice, which errs on the side of telling.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select, update

from audora.platform import ids
from audora.platform.auth.principal import Role
from audora.platform.auth.tables import memberships, users
from audora.platform.incidents import repository
from audora.platform.incidents.model import Actor, Incident
from audora.platform.incidents.tables import incident_tenants
from audora.platform.mail.sender import Mail, MailKind
from audora.platform.runtime import Runtime
from audora.platform.staff.audit import staff_only, tenant_of
from audora.tenants.audit.log import AuditEntry, append_alone
from audora.tenants.registry.tables import accounts

log = logging.getLogger(__name__)

SUBJECT = "Security incident affecting your Audora account"
# Who the tenant's audit log says acted: the incident process, not a staff member.
TENANT_ACTOR = "system:incidents"


def incident_mail(
    owner: str,
    incident: Incident,
    account_id: uuid.UUID,
    account_name: str,
    base_url: str,
    confirmed: datetime | None = None,
) -> Mail:
    """The owner's message; `confirmed`: when the account was found affected (an account
    added by a later confirmation has its own time)."""
    confirmed = confirmed or incident.confirmed_at
    when = confirmed.strftime("%Y-%m-%d %H:%M UTC") if confirmed else "now"
    return Mail(
        to=(owner,),
        subject=SUBJECT,
        text=(
            "We are writing to tell you about a security incident that affected data in "
            f'your Audora account "{account_name}" ({ids.encode(ids.Kind.ACCOUNT, account_id)}).'
            f"\n\nIncident: {incident.title}\nConfirmed: {when}\n\n"
            f"What data was affected, and how:\n{incident.data_affected}\n\n"
            f"What we have done:\n{incident.actions_taken}\n\n"
            "We will publish a post-incident report within 30 days of resolving the "
            f"incident. Its progress is on our status page: {base_url}/status\n"
        ),
        # A notice the customer needs about their account: transactional.
        kind=MailKind.TRANSACTIONAL,
    )


async def notify_pending(runtime: Runtime, actor: Actor, incident_id: uuid.UUID) -> int:
    """Email the owners of every affected account not yet told; how many accounts were
    told now. A failure is logged and leaves that account for the next try."""
    async with runtime.platform_engine.connect() as conn:
        incident = await repository.load(conn, incident_id)
        pending = [t.account_id for t in incident.tenants if t.notified_at is None]
        confirmed = {t.account_id: t.confirmed_at for t in incident.tenants}
        names = dict(
            (
                await conn.execute(
                    select(accounts.c.id, accounts.c.name).where(accounts.c.id.in_(pending))
                )
            ).all()
        )
        owners: dict[uuid.UUID, list[str]] = {a: [] for a in pending}
        for account_id, email in await conn.execute(
            select(memberships.c.account_id, users.c.email)
            .join(users, users.c.id == memberships.c.user_id)
            .where(memberships.c.account_id.in_(pending), memberships.c.role == Role.OWNER.value)
            .order_by(users.c.email)
        ):
            owners[account_id].append(email)
    told = 0
    for account_id in pending:
        try:
            for owner in owners[account_id]:
                await runtime.mail.send(
                    incident_mail(
                        owner,
                        incident,
                        account_id,
                        names.get(account_id, ""),
                        runtime.settings.mail_base_url,
                        confirmed[account_id],
                    )
                )
        except Exception:
            log.exception(
                "incident %s: telling the owners of account %s failed; "
                "`audora incident notify` tries again",
                incident_id,
                account_id,
            )
            continue
        now = runtime.clock.now()
        public = ids.encode(ids.Kind.ACCOUNT, account_id)
        async with runtime.platform_engine.begin() as conn:
            done = await conn.execute(
                update(incident_tenants)
                .where(
                    incident_tenants.c.incident_id == incident_id,
                    incident_tenants.c.account_id == account_id,
                    incident_tenants.c.notified_at.is_(None),
                )
                .values(notified_at=now, notified_owners=len(owners[account_id]))
            )
            if done.rowcount == 0:
                continue
            await repository.append(
                conn,
                incident_id,
                now,
                actor,
                "notified",
                f"{len(owners[account_id])} owner(s) of {public} emailed"
                if owners[account_id]
                else f"{public} has no owner to email",
            )
            await staff_only(
                conn,
                now,
                "incident.notified",
                staff_id=actor.staff_id,
                account_id=account_id,
                target=ids.encode(ids.Kind.INCIDENT, incident_id),
                ip=actor.ip,
                details={"actor": actor.label, "owners": len(owners[account_id])},
            )
            await append_alone(
                runtime.tenant_engines,
                tenant_of(account_id),
                now,
                AuditEntry(
                    actor=TENANT_ACTOR,
                    action="incident.notified",
                    target=ids.encode(ids.Kind.INCIDENT, incident_id),
                    details={
                        "incident": ids.encode(ids.Kind.INCIDENT, incident_id),
                        "title": incident.title,
                    },
                ),
            )
        told += 1
    return told
