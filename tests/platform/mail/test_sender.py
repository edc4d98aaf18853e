"""The mail sender hands plain-text messages to the SMTP server named by
AUDORA_SMTP_URL, from AUDORA_MAIL_FROM, and never sends credentials without TLS."""

from __future__ import annotations

import uuid

import pytest

from audora.platform.mail.sender import Mail, MailKind, MailSender, SmtpTarget
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack

from audora_testing import mail_text, read_mail


async def test_a_message_reaches_the_catcher_from_the_configured_sender(
    runtime: Runtime, stack: EmbeddedStack
) -> None:
    to = f"someone-{uuid.uuid4().hex[:8]}@example.com"
    await runtime.mail.send(
        Mail(to=(to,), subject="Hello", text="Plain words.\n", kind=MailKind.TRANSACTIONAL)
    )
    (message,) = await read_mail(stack.data_dir / "mail", to)
    assert message["From"] == "Audora <security@audora.local>"
    assert message["Subject"] == "Hello"
    assert mail_text(message) == "Plain words.\n"


def test_credentials_over_plain_smtp_are_refused() -> None:
    with pytest.raises(ValueError, match="plain SMTP"):
        SmtpTarget.parse("smtp://user:secret@mail.example.com:25")
    tls = SmtpTarget.parse("smtps://us%40er:p%2Fss@mail.example.com")
    assert (tls.port, tls.username, tls.password) == (465, "us@er", "p/ss")
    assert SmtpTarget.parse("smtp+starttls://u:p@mail.example.com").port == 587


def test_a_sender_needs_one_from_address() -> None:
    with pytest.raises(ValueError, match="MAIL_FROM"):
        MailSender("smtp://127.0.0.1:25", "not an address")
