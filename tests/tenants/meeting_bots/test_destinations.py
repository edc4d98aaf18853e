"""SSRF: the meeting bot's media is fetched from public addresses only, whatever the
host's name resolves to, and whatever address the connection reached; loopback only
for hosts a test names."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from audora.platform.config import Settings
from audora.platform.http.outbound import InsecureDestination, outbound_client
from audora.tenants.meeting_bots.destinations import is_public, vet_peer, vet_url

from bot_provider import ProviderState


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104  (an address checked, not bound)
        "224.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::",
    ],
)
def test_private_loopback_link_local_and_disguised_addresses_are_not_public(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_are(address: str) -> None:
    assert is_public(address)


def _resolving_to(*addresses: str) -> object:
    async def resolve(host: str, port: int) -> Sequence[str]:
        return addresses

    return resolve


async def test_a_host_is_refused_if_any_address_it_resolves_to_is_not_public() -> None:
    settings = Settings(env="test")
    url = "https://media.provider.example/rec.mp4"
    assert await vet_url(url, settings, _resolving_to("93.184.215.14")) == url  # type: ignore[arg-type]
    for addresses in (("93.184.215.14", "10.0.0.5"), ("169.254.169.254",), ()):
        with pytest.raises(InsecureDestination):
            await vet_url(url, settings, _resolving_to(*addresses))  # type: ignore[arg-type]


async def test_only_https_without_credentials_and_named_hosts_skip_the_check() -> None:
    settings = Settings(env="test", outbound_allow_private_hosts=["localhost"])
    loopback = _resolving_to("127.0.0.1")
    for url in ("http://media.provider.example/r", "https://u:p@media.provider.example/r"):
        with pytest.raises(InsecureDestination):
            await vet_url(url, settings, loopback)  # type: ignore[arg-type]
    assert await vet_url("https://localhost:9/r", settings, loopback)  # type: ignore[arg-type]


def test_private_destinations_cannot_be_allowed_in_production() -> None:
    with pytest.raises(ValueError, match="not in production"):
        Settings(env="production", outbound_allow_private_hosts=["localhost"])


async def test_the_address_a_connection_reached_is_checked_before_the_body_is_read(
    provider: ProviderState, settings: Settings
) -> None:
    """The DNS answer could change between the check and the connection: the peer the
    connection actually reached is checked again."""
    async with outbound_client(extra_ca=settings.outbound_ca_file) as client:
        async with client.stream("GET", provider.base_url + "/media/x.flac") as response:
            peer = response.extensions["network_stream"].get_extra_info("server_addr")
            assert peer[0] == "127.0.0.1"
            vet_peer(response, settings)  # localhost is a named test host
            strict = Settings(env="test")
            with pytest.raises(InsecureDestination, match="not public"):
                vet_peer(response, strict)
