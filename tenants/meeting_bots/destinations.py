"""Where the media of a meeting bot may be fetched from: public addresses only (SSRF).

The media URL arrives in a signed webhook, so it is the provider's word, not a
stranger's; it is still checked, because a provider's bug or a leaked webhook secret
must not turn the worker into a client of our own network. Two checks:

- before connecting, every address the host resolves to must be public (not private,
  loopback, link-local (cloud metadata included), CGNAT, multicast, reserved or
  unspecified, nor an IPv4-mapped, 6to4 or NAT64 form of one);
- once connected, the peer the connection actually reached must be public too (a DNS
  answer that changed in between is caught before a byte of the body is read).

Hosts named in `AUDORA_OUTBOUND_ALLOW_PRIVATE_HOSTS` (tests' local stand-ins; refused in
production by the settings) skip both checks.

This is the meeting-bot path's own guard until the shared one
(`platform/http/destinations.py`, the integrations' work) lands; `vet_url` and
`vet_peer` are the two seams to swap for it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import httpx

from audora.platform.config import Settings
from audora.platform.http.outbound import InsecureDestination

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")


async def system_resolver(host: str, port: int) -> Sequence[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public(address: str) -> bool:
    """True only for a globally routable unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip in _SIXTOFOUR:
            embedded = ip.sixtofour
        if embedded is not None:
            return is_public(str(embedded))
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _allowed_private(host: str, settings: Settings) -> bool:
    return host.lower() in {h.lower() for h in settings.outbound_allow_private_hosts}


async def vet_url(url: str, settings: Settings, resolve: Resolver = system_resolver) -> str:
    """`url` if it is https to a host that resolves to public addresses only."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise InsecureDestination("media must be fetched over https")
    if parts.username is not None or parts.password is not None or not parts.hostname:
        raise InsecureDestination("the media URL has no host or carries credentials")
    host = parts.hostname
    if _allowed_private(host, settings):
        return url
    try:
        addresses = await resolve(host, parts.port or 443)
    except OSError:
        raise InsecureDestination(f"{host} does not resolve") from None
    if not addresses or not all(is_public(a) for a in addresses):
        raise InsecureDestination(f"{host} resolves to an address that is not public")
    return url


def vet_peer(response: httpx.Response, settings: Settings) -> None:
    """Refuse a response whose connection reached an address that is not public."""
    host = response.request.url.host
    if _allowed_private(host, settings):
        return
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if not peer or not is_public(str(peer[0])):
        raise InsecureDestination(f"{host} was reached at an address that is not public")
