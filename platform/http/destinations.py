"""The SSRF guard for every outbound destination a customer (or a provider's callback)
names: webhook URLs, integration endpoints, meeting-bot media URLs.

A destination is refused when ANY address its host resolves to is not a public unicast
address: private, loopback, link-local, multicast, reserved, unspecified, shared (CGNAT
100.64/10), the cloud metadata endpoints, and the IPv6 forms that carry an IPv4 address
(IPv4-mapped, 6to4, NAT64, Teredo), judged by the IPv4 address inside.

The check runs twice. When the destination is saved (`vet_url`), so a customer hears at
once that it is refused; and again at connect time, because DNS can answer differently a
second later (DNS rebinding). For the second, `guarded_client` gives httpx a network
backend that resolves the host itself, vets every address, and opens the TCP connection
to a vetted address only. TLS still runs over that connection with the *hostname* as SNI
and as the name the certificate must match, so certificate validation (E6) is unchanged:
httpcore takes `server_hostname` from the request's URL, not from the address connected.

Hosts named in `outbound_allow_private_hosts` skip the address check (tests run their
stand-ins of Linear and Notion on loopback); that setting is refused in production.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpcore
import httpx

from audora.platform.config import Settings
from audora.platform.errors import AppError, ErrorCode
from audora.platform.http.outbound import outbound_client, outbound_tls_context

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> every address the host resolves to (as text).
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Cloud metadata services (AWS, GCP, Azure, ...: 169.254.169.254; AWS over IPv6:
# fd00:ec2::254). Both already fall in link-local and unique-local ranges; named here so
# the refusal says what they are.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT
NAT64_PREFIXES = (
    ipaddress.ip_network("64:ff9b::/96"),  # RFC 6052 well-known prefix
    ipaddress.ip_network("64:ff9b:1::/48"),  # RFC 8215 local-use prefix
)


class DestinationRefused(AppError):
    """The destination would reach an address Audora never calls."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=ErrorCode.BAD_USER_INPUT)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of the forms that
    reach IPv4 hosts: IPv4-mapped, 6to4, Teredo (the client's address), NAT64."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    for prefix in NAT64_PREFIXES:
        if address in prefix:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    # IPv4-compatible (::a.b.c.d, deprecated) still routes to IPv4 on some stacks.
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None


def refusal(address: IPAddress) -> str | None:
    """Why Audora will not connect to `address`, or None if it is a public address."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            reason = refusal(inner)
            return None if reason is None else f"{reason} (inside an IPv6 address)"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("shared (carrier-grade NAT)", address in SHARED_ADDRESS_SPACE),
        ("not globally routable", not address.is_global),
    )
    for name, hit in checks:
        if hit:
            return f"a {name} address"
    return None


# A resolver that does not answer in this long counts as one that found nothing.
RESOLVE_TIMEOUT_SECONDS = 10.0


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system's resolver gives for `host`."""
    async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):  # TimeoutError is an OSError
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class DestinationPolicy:
    """Which outbound destinations may be reached, and how hosts are resolved."""

    allow_private_hosts: frozenset[str] = frozenset()
    resolver: Resolver = system_resolver
    extra_ca: Path | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, resolver: Resolver | None = None
    ) -> DestinationPolicy:
        return cls(
            allow_private_hosts=frozenset(h.lower() for h in settings.outbound_allow_private_hosts),
            resolver=resolver or system_resolver,
            extra_ca=settings.outbound_ca_file,
        )

    async def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`: all of them vetted, or refused."""
        host = host.strip("[]").lower()
        literal = _literal(host)
        if literal is not None:
            found = [str(literal)]
        else:
            try:
                found = await self.resolver(host, port)
            except OSError:
                raise DestinationRefused(f"{host} does not resolve") from None
            if not found:
                raise DestinationRefused(f"{host} does not resolve")
        if host in self.allow_private_hosts:
            return found
        for text in found:
            reason = refusal(ipaddress.ip_address(text.split("%", 1)[0]))
            if reason is not None:
                raise DestinationRefused(f"{host} resolves to {reason}; it cannot be reached")
        return found

    async def vet_url(self, url: str, *, field: str = "url") -> str:
        """`url` checked as a destination to save: https, a host, no credentials in it,
        and every address it resolves to now a public one. Returns it normalised."""
        url = url.strip()
        try:
            parts = urlsplit(url)
            port = parts.port or 443
        except ValueError:
            raise AppError(f"{field} is not a valid URL", code=ErrorCode.BAD_USER_INPUT) from None
        if parts.scheme.lower() != "https":
            raise DestinationRefused(f"{field} must be an https URL")
        if not parts.hostname:
            raise DestinationRefused(f"{field} has no host")
        if parts.username is not None or parts.password is not None:
            raise DestinationRefused(f"{field} must not carry credentials")
        if len(url) > 2048:
            raise DestinationRefused(f"{field} is longer than 2048 characters")
        await self.addresses(parts.hostname, port)
        return parts._replace(scheme="https", fragment="").geturl()


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and vets at connect time, then connects to a vetted address only."""

    def __init__(self, policy: DestinationPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.policy.addresses(host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # noqa: S101  (addresses is never empty)
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise DestinationRefused("outbound calls never use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool given the guarded backend. httpx
    does not take a network backend as an argument, so the pool it built is replaced
    by an equal one that has it (tests/platform/http/test_destinations.py proves a
    rebinding host is refused at connect time, so a change in httpx cannot hide)."""

    def __init__(self, policy: DestinationPolicy, context: ssl.SSLContext) -> None:
        super().__init__(verify=context, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=10,
            max_keepalive_connections=5,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(policy),
        )


def guarded_client(policy: DestinationPolicy, *, timeout: float = 30.0) -> httpx.AsyncClient:
    """The outbound client (https only, verified TLS, no redirects) for destinations a
    customer named: every connection it opens goes to an address vetted just before."""
    transport = _GuardedTransport(policy, outbound_tls_context(policy.extra_ca))
    return outbound_client(extra_ca=policy.extra_ca, timeout=timeout, transport=transport)
