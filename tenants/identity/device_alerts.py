"""The new-device alert (promise A10): a job that emails the user who signed in and the
account's owners, saying when (the application clock), from where (the address), on
what (the user agent), with a one-time link that ends that session.

The job is given ids only; it makes the revoke link itself, so the link's token exists
only in the email and, hashed, on the session row. It is idempotent: a session gets
one link, and a job that finds one already made has already sent its mail (arq may run
a job twice). If the mail cannot be handed to SMTP, the link is withdrawn and the job
retried later with a fresh one.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from arq import Retry
from sqlalchemy import RowMapping

from audora.platform.auth import revoke_links
from audora.platform.mail.sender import Mail, MailError, MailKind
from audora.platform.runtime import Runtime
from audora.tenants.identity import repository

log = logging.getLogger(__name__)

SUBJECT = "Audora: a new device signed in"
# Shown in the mail, quoted: enough to recognise a browser, too little to pass for a
# paragraph of instructions an attacker wrote into their user agent.
AGENT_CHARS = 160
RETRY_SECONDS = 60


def _printable(value: str, limit: int) -> str:
    cleaned = "".join(c if c.isprintable() else " " for c in value).strip()
    return cleaned[:limit] + ("…" if len(cleaned) > limit else "")


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def compose(facts: RowMapping, owners: list[str], link: str) -> Mail:
    """The alert for one session: to its user and the account's owners, once each."""
    recipients = tuple(dict.fromkeys([facts["email"], *owners]))
    agent = _printable(facts["user_agent"] or "", AGENT_CHARS) or "(none sent)"
    ip = str(facts["ip"]) if facts["ip"] is not None else "unknown"
    text = (
        "A device not seen before for this user signed in to Audora.\n\n"
        f"  User:     {_printable(facts['full_name'], 200)} <{facts['email']}>\n"
        f"  Account:  {_printable(facts['account_name'], 200)}\n"
        f"  When:     {_when(facts['created_at'])}\n"
        f"  From:     {ip}\n"
        f'  Device:   "{agent}"\n\n'
        "If this was you, there is nothing to do.\n\n"
        "If it was not, end that session now (this link works without signing in):\n"
        f"  {link}\n"
        "and then change the password.\n\n"
        "You receive this as the user who signed in, or as an owner of the account.\n"
    )
    return Mail(to=recipients, subject=SUBJECT, text=text, kind=MailKind.TRANSACTIONAL)


async def new_device_alert_job(
    ctx: dict[str, Any], user_id: str, account_id: str, session_id: str
) -> str:
    runtime: Runtime = ctx["runtime"]
    session = uuid.UUID(session_id)
    async with runtime.platform_engine.connect() as conn:
        facts = await repository.alerted_session(
            conn, uuid.UUID(user_id), uuid.UUID(account_id), session
        )
        owners = await repository.owner_emails(conn, uuid.UUID(account_id))
    if facts is None:
        return "no such session"
    token = await revoke_links.issue(runtime.platform_engine, session)
    if token is None:
        return "already alerted"
    mail = compose(facts, owners, revoke_links.url(runtime.settings.mail_base_url, token))
    try:
        await runtime.mail.send(mail)
    except MailError:
        log.exception("new-device alert for session %s not sent; will retry", session_id)
        await revoke_links.withdraw(runtime.platform_engine, session, token)
        raise Retry(defer=RETRY_SECONDS * ctx.get("job_try", 1)) from None
    return f"alerted {len(mail.to)}"
