"""Which address a session is bound to: X-Forwarded-For is believed only from a proxy
in `trusted_proxies`; from anyone else it is ignored, whatever it says."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from audora.platform.http.client_ip import client_ip

from audora_testing import GraphQL, client_from, sign_up

PROXIES = ["10.0.0.0/8", "fd00::/8"]


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "seen"),
    [
        ("198.51.100.7", "203.0.113.9", [], "198.51.100.7"),  # no trusted proxy at all
        ("198.51.100.7", "203.0.113.9", PROXIES, "198.51.100.7"),  # a stranger's header
        ("10.1.2.3", "203.0.113.9", PROXIES, "203.0.113.9"),  # our proxy's
        ("10.1.2.3", "203.0.113.9, 10.9.9.9", PROXIES, "203.0.113.9"),  # two of our hops
        ("10.1.2.3", "6.6.6.6, 203.0.113.9", PROXIES, "203.0.113.9"),  # a forged first entry
        ("10.1.2.3", None, PROXIES, "10.1.2.3"),
        ("10.1.2.3", "garbage", PROXIES, "10.1.2.3"),
        ("fd00::1", "2001:db8::5", PROXIES, "2001:db8::5"),
    ],
)
def test_forwarded_for_is_believed_from_trusted_proxies_only(
    peer: str, forwarded: str | None, trusted: list[str], seen: str
) -> None:
    assert client_ip(peer, forwarded, trusted) == seen


async def test_a_forwarded_for_header_cannot_move_a_session_to_another_address(
    app: Starlette, gql: GraphQL
) -> None:
    """Without trusted proxies, a thief who copies the token and forges the victim's
    address in X-Forwarded-For is still seen at their own address, and refused."""
    owner = await sign_up(gql, "Forged Header")
    async with client_from(app, "198.51.100.99", "audora-tests/1.0") as thief:
        result = await GraphQL(thief).client.post(
            "/graphql",
            json={"query": "{ me { user { email } } }"},
            headers={"authorization": f"Bearer {owner['token']}", "x-forwarded-for": "203.0.113.7"},
        )
    assert result.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
