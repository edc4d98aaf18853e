"""Promise: what monitoring sends leaves without personal data, credentials or customer
content. Events go through the real sentry_sdk client; a test transport captures what would
have been sent (no network)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from audora.platform.config import Settings
from audora.platform.monitoring import init_monitoring

EMAIL = "dana.client@acme-example.com"
TOKEN = "sk_live_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"  # pragma: allowlist secret
SESSION = "s3ss10n-9f8e7d6c5b4a39281706f5e4d3c2b1a0"  # pragma: allowlist secret
PASSWORD = "hunter2-Correct-Horse"  # pragma: allowlist secret
IPV4 = "203.0.113.77"
IPV6 = "2001:db8::17"
CONTENT = "we plan to acquire Globex for forty million"
PII = (EMAIL, TOKEN, SESSION, PASSWORD, IPV4, IPV6, CONTENT, "Globex", "hunter2")


class CapturingTransport(Transport):
    """Keeps every envelope the client would have sent."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def sent(self) -> list[dict[str, Any]]:
        return [
            item.payload.json
            for envelope in self.envelopes
            for item in envelope.items
            if item.payload.json is not None
        ]

    def text(self) -> str:
        return json.dumps(self.sent())


@pytest.fixture
def transport() -> Iterator[CapturingTransport]:
    captured = CapturingTransport()
    settings = Settings(env="production", sentry_dsn="https://public@sentry.invalid/1")
    assert init_monitoring(settings, transport=captured)
    yield captured
    client = sentry_sdk.get_client()
    client.close()
    sentry_sdk.get_global_scope().set_client(None)


def assert_no_pii(text: str) -> None:
    for value in PII:
        assert value not in text, value


def _check_password(email: str, password: str, transcript: str) -> None:
    raise ValueError(f"login failed for {email} with {password} from {IPV4}: {transcript}")


def test_monitoring_is_off_without_a_dsn() -> None:
    assert init_monitoring(Settings(env="production")) is False


def test_an_exception_leaves_with_its_type_and_function_names_but_no_locals_or_message(
    transport: CapturingTransport,
) -> None:
    try:
        _check_password(EMAIL, PASSWORD, CONTENT)
    except ValueError as error:
        sentry_sdk.capture_exception(error)
    sentry_sdk.flush()

    [event] = transport.sent()
    assert_no_pii(transport.text())
    [exception] = event["exception"]["values"]
    assert exception["type"] == "ValueError"
    frames = exception["stacktrace"]["frames"]
    assert [f["function"] for f in frames][-1] == "_check_password"
    assert all("vars" not in f for f in frames)


def test_request_bodies_graphql_variables_headers_and_addresses_never_leave(
    transport: CapturingTransport,
) -> None:
    with sentry_sdk.new_scope() as scope:
        scope.set_user({"email": EMAIL, "ip_address": IPV4})
        scope.set_extra("transcript", CONTENT)
        scope.set_tag("client_ip", IPV6)
        sentry_sdk.capture_event(
            {
                "message": f"GraphQL error for {EMAIL} at {IPV6}",
                "level": "error",
                "request": {
                    "method": "POST",
                    "url": f"https://app.example/graphql?session={SESSION}",
                    "query_string": f"token={TOKEN}",
                    "headers": {
                        "Authorization": f"Bearer {TOKEN}",
                        "Cookie": f"audora_session={SESSION}",
                        "X-Forwarded-For": IPV4,
                        "Content-Type": "application/json",
                    },
                    "cookies": {"audora_session": SESSION},
                    "data": {
                        "query": "mutation($p: String!) { signIn(password: $p) }",
                        "variables": {"p": PASSWORD, "note": CONTENT},
                    },
                    "env": {"REMOTE_ADDR": IPV4},
                },
                "contexts": {"graphql": {"variables": {"email": EMAIL}}},
            }
        )
    sentry_sdk.flush()

    [event] = transport.sent()
    assert_no_pii(transport.text())
    assert event["request"]["method"] == "POST"
    assert event["request"]["url"] == "https://app.example/graphql"
    assert event["request"]["headers"] == {"Content-Type": "application/json"}


def test_logged_errors_and_breadcrumbs_leave_without_emails_tokens_or_addresses(
    transport: CapturingTransport,
) -> None:
    log = logging.getLogger("audora.test.monitoring")
    log.setLevel(logging.INFO)
    log.info("signed in %s from %s with Bearer %s", EMAIL, IPV4, TOKEN)
    log.warning("link https://app.example/reset?token=%s", TOKEN, extra={"body": CONTENT})
    log.error("push failed for %s: %s", EMAIL, CONTENT)
    sentry_sdk.flush()

    [event] = transport.sent()
    assert_no_pii(transport.text())
    assert event["logentry"]["message"] == "push failed for %s: %s"
    crumbs = [c.get("message", "") for c in event["breadcrumbs"]["values"]]
    assert any(c.startswith("signed in [redacted]") for c in crumbs)
