"""The SSRF guard: a destination a customer names is refused when any address its host
resolves to is private, loopback, link-local, metadata or otherwise not public, both
when it is saved and again when a connection is opened (a host whose DNS answer changes
in between is caught at connect time). Connections go to the vetted address while TLS
is verified for the hostname (E6). No embedded stack needed: real TLS servers on
loopback, and an injected resolver standing in for DNS."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from audora.platform.config import Settings
from audora.platform.http.destinations import (
    DestinationPolicy,
    DestinationRefused,
    guarded_client,
    refusal,
)
from audora.platform.http.outbound import InsecureDestination
from audora.platform.tls.local_ca import ensure_server_certificate

from standins import StandIn, WebhookHandler, self_signed, serve

PUBLIC = "93.184.216.34"


@pytest.fixture(scope="module")
def ca_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("destinations-ca")


@pytest.fixture(scope="module")
def receiver(ca_folder: Path) -> Iterator[StandIn]:
    """A webhook receiver on 127.0.0.1 whose certificate names `hooks.example`."""
    made = ensure_server_certificate(ca_folder, hosts=("hooks.example",))
    with serve(WebhookHandler, made.cert_file, made.key_file, host="hooks.example") as stand_in:
        yield stand_in


def _resolving(*answers: list[str]) -> tuple[DestinationPolicy, list[str]]:
    """A resolver giving each answer in turn (the last one from then on)."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers[min(len(asked), len(answers)) - 1]

    return DestinationPolicy(resolver=resolve), asked


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104  (an address refused, not bound)
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fd00:ec2::254",
        "fc00::7",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
        "ff02::1",
    ],
)
def test_addresses_that_are_not_public_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", [PUBLIC, "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fd00:ec2::254]/",
    ],
)
async def test_literal_private_destinations_are_refused_when_saved(url: str) -> None:
    with pytest.raises(DestinationRefused):
        await DestinationPolicy().vet_url(url)


async def test_a_host_is_refused_when_any_of_its_addresses_is_private() -> None:
    policy, _ = _resolving([PUBLIC, "10.0.0.1"])
    with pytest.raises(DestinationRefused, match="private"):
        await policy.vet_url("https://hooks.example/in")


@pytest.mark.parametrize(
    "url", ["http://hooks.example/in", "ftp://hooks.example/", "https://user:pw@hooks.example/"]
)
async def test_plain_http_and_credentials_in_the_url_are_refused(url: str) -> None:
    policy, asked = _resolving([PUBLIC])
    with pytest.raises(DestinationRefused):
        await policy.vet_url(url)
    assert asked == []


@pytest.mark.parametrize(
    "rebound", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "::1", "::ffff:127.0.0.1"]
)
async def test_a_host_rebinding_to_a_private_address_is_refused_at_connect_time(
    receiver: StandIn, ca_folder: Path, rebound: str
) -> None:
    # Saved while it resolved to a public address; by the time of the push it names
    # an internal address (the receiver stands for any internal service).
    policy, asked = _resolving([PUBLIC], [rebound])
    policy = DestinationPolicy(resolver=policy.resolver, extra_ca=ca_folder / "ca.pem")
    url = await policy.vet_url(receiver.url + "/in")
    receiver.reset()
    async with guarded_client(policy) as client:
        with pytest.raises(DestinationRefused, match="cannot be reached"):
            await client.post(url, json={})
    assert asked == ["hooks.example", "hooks.example"]
    assert receiver.received == []


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]"])
async def test_literal_private_addresses_are_refused_at_connect_time(
    receiver: StandIn, host: str
) -> None:
    port = receiver.url.rsplit(":", 1)[1]
    receiver.reset()
    async with guarded_client(DestinationPolicy()) as client:
        with pytest.raises(DestinationRefused):
            await client.post(f"https://{host}:{port}/in", json={})
    assert receiver.received == []


async def test_the_connection_goes_to_the_vetted_address_with_tls_verified_for_the_host(
    receiver: StandIn, ca_folder: Path
) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    allowed = DestinationPolicy(
        allow_private_hosts=frozenset({"hooks.example", "other.example"}),
        resolver=resolve,
        extra_ca=ca_folder / "ca.pem",
    )
    async with guarded_client(allowed) as client:
        response = await client.post(receiver.url + "/in", json={"ok": True})
        assert response.status_code == 204
        # The same server reached under another name: its certificate does not match.
        port = receiver.url.rsplit(":", 1)[1]
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.post(f"https://other.example:{port}/in", json={})


async def test_a_self_signed_destination_is_refused(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)

    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    policy = DestinationPolicy(allow_private_hosts=frozenset({"localhost"}), resolver=resolve)
    with serve(WebhookHandler, cert, key) as stand_in:
        async with guarded_client(policy) as client:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.post(stand_in.url + "/in", json={})
    assert stand_in.received == []


async def test_plain_http_is_refused_by_the_guarded_client() -> None:
    async with guarded_client(DestinationPolicy()) as client:
        with pytest.raises(InsecureDestination):
            await client.post("http://hooks.example/in", json={})


def test_exempting_private_hosts_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="refused in production"):
        Settings(env="production", outbound_allow_private_hosts=["localhost"])
    assert Settings(env="test", outbound_allow_private_hosts=["localhost"])
