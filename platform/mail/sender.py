"""Outgoing mail: plain-text messages over SMTP, from `AUDORA_MAIL_FROM`.

`AUDORA_SMTP_URL` says where and how:

- `smtp://host:port`: plain SMTP, for the embedded catcher or a relay on the same host;
- `smtp+starttls://user:password@host:587`: STARTTLS, required, before anything is sent;
- `smtps://user:password@host:465`: TLS from the first byte.

Credentials (percent-encoded in the URL) are only ever sent over TLS: a URL that names
them with plain `smtp://` is refused when the sender is made, not when the first alert
is due. Certificates are verified against the system's trust store.

`smtplib` is blocking, so each message is sent in a worker thread; a message goes out to
all of its recipients in one SMTP transaction.

Every message says what it is (`kind`, required, so that no call site can forget it):

- TRANSACTIONAL: notices a person needs about their account (alerts, invitations,
  exports, closure); sent without asking, marked `Auto-Submitted: auto-generated`
  (RFC 3834) and never carrying List-Unsubscribe;
- MARKETING: anything else. Sent only to recipients who are users with an explicit opt-in
  (`users.marketing_opt_in_at`, asked by the sender's `consent` lookup), one message per
  recipient so that no one sees another's address, each with List-Unsubscribe. Any other
  recipient is skipped and logged (by a count, not the address); a sender without a
  consent lookup sends no marketing at all.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from enum import Enum
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_SECONDS = 15.0

log = logging.getLogger(__name__)


class MailKind(Enum):
    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


# Of the addresses given, those whose user has opted in to marketing (lower-cased).
ConsentLookup = Callable[[Collection[str]], Awaitable[set[str]]]


class MailError(Exception):
    """The message could not be handed to the SMTP server."""


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    text: str
    # Required and keyword-only: every call site says which kind of message it sends.
    kind: MailKind = field(kw_only=True)
    # MARKETING only, and required there: where the recipient opts out (List-Unsubscribe).
    unsubscribe_url: str | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if self.kind is MailKind.MARKETING and not (
            self.unsubscribe_url and self.unsubscribe_url.startswith("https://")
        ):
            raise ValueError("marketing mail needs an https:// unsubscribe_url")


@dataclass(frozen=True)
class SmtpTarget:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError(
                "AUDORA_SMTP_URL must be smtp://, smtp+starttls:// or smtps:// with a host"
            )
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        if scheme == "smtp" and (username or password):
            raise ValueError(
                "AUDORA_SMTP_URL names credentials over plain SMTP: "
                "use smtps:// or smtp+starttls://"
            )
        return cls(scheme, parts.hostname, parts.port or DEFAULT_PORTS[scheme], username, password)


class MailSender:
    """Sends `Mail` from one address through one SMTP server."""

    def __init__(
        self, smtp_url: str, mail_from: str, *, consent: ConsentLookup | None = None
    ) -> None:
        # An empty URL is allowed until something is sent: commands that never mail
        # (migrate, keys) need no SMTP server.
        self.target = SmtpTarget.parse(smtp_url) if smtp_url else None
        self.mail_from = mail_from
        self.consent = consent
        addresses = getaddresses([mail_from])
        if len(addresses) != 1 or "@" not in addresses[0][1]:
            raise ValueError("AUDORA_MAIL_FROM must be one address, e.g. 'Audora <a@b.example>'")
        self._domain = addresses[0][1].rsplit("@", 1)[1]

    def compose(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = ", ".join(mail.to)
        message["Subject"] = mail.subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=self._domain)
        if mail.kind is MailKind.TRANSACTIONAL:
            # RFC 3834: a machine sent it on its own; auto-responders must not answer.
            message["Auto-Submitted"] = "auto-generated"
        else:
            message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message.set_content(mail.text)
        return message

    async def send(self, mail: Mail) -> None:
        if mail.kind is MailKind.MARKETING:
            await self._send_marketing(mail)
        else:
            await self._send(mail)

    async def _send_marketing(self, mail: Mail) -> None:
        opted_in = await self.consent(mail.to) if self.consent is not None else set()
        allowed = [address for address in mail.to if address.lower() in opted_in]
        if refused := len(mail.to) - len(allowed):
            log.info(
                "marketing mail not sent to %d recipient(s) without opt-in",
                refused,
                extra={"subject": mail.subject},
            )
        for address in allowed:
            await self._send(
                Mail(
                    (address,),
                    mail.subject,
                    mail.text,
                    kind=MailKind.MARKETING,
                    unsubscribe_url=mail.unsubscribe_url,
                )
            )

    async def _send(self, mail: Mail) -> None:
        if not mail.to:
            return
        if self.target is None:
            raise MailError("no SMTP server is configured (AUDORA_SMTP_URL)")
        message = self.compose(mail)
        try:
            await asyncio.to_thread(_deliver, self.target, message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"SMTP delivery to {self.target.host} failed: {exc}") from exc


def _deliver(target: SmtpTarget, message: EmailMessage) -> None:
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    client: smtplib.SMTP
    if target.scheme == "smtps":
        client = smtplib.SMTP_SSL(
            target.host, target.port, timeout=TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=TIMEOUT_SECONDS)
    with client:
        if target.scheme == "smtp+starttls":
            client.starttls(context=context)
        if target.username is not None:
            client.login(target.username, target.password or "")
        client.send_message(message)
