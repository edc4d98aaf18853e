"""The scrubber's shapes: what is replaced in free text, and what is kept."""

from __future__ import annotations

import pytest

from audora.platform.scrub import REDACTED, scrub_text, scrub_value


@pytest.mark.parametrize(
    "text",
    [
        "mail to dana.o'hara+calls@client.co.uk",
        "Authorization: Bearer a1b2c3.d4e5f6.g7h8i9",
        "GET /download?id=7&signature=Zm9vYmFy&expires=1",
        "GET /oauth/callback?state=1&code=4f1a",
        "retrying with access_key=AKIDEXAMPLE",
        "from 203.0.113.9",
        "from 2001:db8::8a2e:370:7334",
        "from fe80:0:0:0:202:b3ff:fe1e:8329",
        "session 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ],
)
def test_addresses_credentials_and_opaque_tokens_are_replaced(text: str) -> None:
    scrubbed = scrub_text(text)
    assert REDACTED in scrubbed
    assert scrubbed != text


@pytest.mark.parametrize(
    "text",
    [
        "Uvicorn running on https://127.0.0.1:8443",
        "listening on [::1]:8443 and 0.0.0.0:8080",
        "runtime: Linux CPython 3.11.2",
        "test_an_exception_leaves_with_its_type_and_function_names",
        "took 12.5 ms at 05:33:24",
        "redis_version=7.2.4 status_code=500 footprint=12",
    ],
)
def test_what_names_no_one_is_kept(text: str) -> None:
    assert scrub_text(text) == text


def test_values_under_credential_or_content_keys_are_replaced_whole() -> None:
    scrubbed = scrub_value(
        {
            "X-Api-Key": "plain words",
            "db_password": "plain words",  # pragma: allowlist secret
            "transcript": "plain words",
            "variables": {"anything": 1},
            "status": "plain words",
            "footprint": "plain words",
            "nested": [{"session_id": "x", "note": "by a@b.io"}],
        }
    )
    assert scrubbed == {
        "X-Api-Key": REDACTED,
        "db_password": REDACTED,
        "transcript": REDACTED,
        "variables": REDACTED,
        "status": "plain words",
        "footprint": "plain words",
        "nested": [{"session_id": REDACTED, "note": f"by {REDACTED}"}],
    }
