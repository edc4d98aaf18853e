"""Audora sends transactional mail only, unless a user opted in (S3): a marketing message
reaches only users with an explicit opt-in, which no one has by default or by signing up,
and which opting out withdraws. Every message says which kind it is."""

from __future__ import annotations

import ast
import logging
import uuid

import pytest

from audora.platform.mail.sender import Mail, MailKind
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack

from audora_testing import REPO, GraphQL, read_mail, sign_up

UNSUBSCRIBE = "https://audora.test/settings/email"
CONSENT = "mutation($optIn: Boolean!) { setMarketingConsent(optIn: $optIn) }"
ME = "{ me { user { marketingOptIn } } }"


def marketing(to: str, subject: str) -> Mail:
    return Mail((to,), subject, "News.\n", kind=MailKind.MARKETING, unsubscribe_url=UNSUBSCRIBE)


def notice(to: str, subject: str) -> Mail:
    return Mail((to,), subject, "A notice.\n", kind=MailKind.TRANSACTIONAL)


async def set_consent(gql: GraphQL, token: str, opt_in: bool) -> None:
    result = await gql(CONSENT, {"optIn": opt_in}, token=token)
    assert result == {"data": {"setMarketingConsent": opt_in}}, result


async def opted_in(gql: GraphQL, token: str) -> bool:
    result = await gql(ME, token=token)
    assert "errors" not in result, result
    value = result["data"]["me"]["user"]["marketingOptIn"]
    assert isinstance(value, bool)
    return value


async def test_marketing_reaches_a_user_only_between_opt_in_and_opt_out(
    gql: GraphQL, runtime: Runtime, stack: EmbeddedStack, caplog: pytest.LogCaptureFixture
) -> None:
    folder = stack.data_dir / "mail"
    owner = await sign_up(gql)
    email, token = owner["email"], owner["token"]
    assert await opted_in(gql, token) is False  # signing up never opts in

    with caplog.at_level(logging.INFO, logger="audora.platform.mail.sender"):
        await runtime.mail.send(marketing(email, "News before opt-in"))
    assert any("without opt-in" in r.getMessage() for r in caplog.records)
    assert not any(email in r.getMessage() for r in caplog.records)
    # A notice sent afterwards is the only message the user has: the news never went out.
    await runtime.mail.send(notice(email, "Notice 1"))
    (first,) = await read_mail(folder, email)
    assert first["Subject"] == "Notice 1"

    await set_consent(gql, token, True)
    assert await opted_in(gql, token) is True
    await runtime.mail.send(marketing(email.upper(), "News after opt-in"))
    (news,) = await read_mail(folder, email, "News after opt-in")
    assert news["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert news["Auto-Submitted"] is None

    await set_consent(gql, token, False)
    assert await opted_in(gql, token) is False
    await runtime.mail.send(marketing(email, "News after opt-out"))
    await runtime.mail.send(notice(email, "Notice 2"))
    messages = await read_mail(folder, email, count=3)
    assert [m["Subject"] for m in messages] == ["Notice 1", "News after opt-in", "Notice 2"]


async def test_marketing_goes_only_to_opted_in_users_and_one_message_each(
    gql: GraphQL, runtime: Runtime, stack: EmbeddedStack
) -> None:
    folder = stack.data_dir / "mail"
    keen, other = await sign_up(gql), await sign_up(gql)
    stranger = f"stranger-{uuid.uuid4().hex[:8]}@example.com"  # not a user at all
    await set_consent(gql, keen["token"], True)
    await runtime.mail.send(
        Mail(
            (keen["email"], other["email"], stranger),
            "Spring news",
            "News.\n",
            kind=MailKind.MARKETING,
            unsubscribe_url=UNSUBSCRIBE,
        )
    )
    for address in (other["email"], stranger):
        await runtime.mail.send(notice(address, "Marker"))
    (sent,) = await read_mail(folder, keen["email"])
    assert sent["To"] == keen["email"]  # no one sees another recipient's address
    for address in (other["email"], stranger):
        (only,) = await read_mail(folder, address)
        assert only["Subject"] == "Marker"


async def test_transactional_mail_is_auto_submitted_without_list_unsubscribe(
    runtime: Runtime, stack: EmbeddedStack
) -> None:
    to = f"someone-{uuid.uuid4().hex[:8]}@example.com"
    await runtime.mail.send(notice(to, "Your export is ready"))
    (message,) = await read_mail(stack.data_dir / "mail", to)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] is None


def test_a_message_cannot_be_made_without_a_kind_nor_marketing_without_an_opt_out() -> None:
    with pytest.raises(TypeError, match="kind"):
        Mail(("a@example.com",), "Hi", "Text.\n")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="unsubscribe_url"):
        Mail(("a@example.com",), "Hi", "Text.\n", kind=MailKind.MARKETING)


def test_every_message_in_the_code_names_its_kind() -> None:
    """Besides the type (kind is required), every `Mail(...)` the code builds says
    `kind=` explicitly, and every one outside the sender is transactional."""
    found: list[str] = []
    for root in ("platform", "tenants", "schema"):
        for path in sorted((REPO / root).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "Mail"
                ):
                    where = f"{path.relative_to(REPO)}:{node.lineno}"
                    kinds = [k.value for k in node.keywords if k.arg == "kind"]
                    assert kinds, f"{where} builds a Mail without kind="
                    if path.name != "sender.py":
                        assert ast.unparse(kinds[0]) == "MailKind.TRANSACTIONAL", where
                    found.append(where)
    assert len(found) >= 7, found
