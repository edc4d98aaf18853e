"""Ports for the stack's servers, chosen where no outgoing connection can take them.

A port chosen by binding to port 0 comes from the kernel's ephemeral range, the same range
it draws the local port of every outgoing connection from. The stack chooses all its ports
before it starts its servers, and SeaweedFS opens many connections while it starts, so
one of them could take the S3 gateway's port before the gateway bound it ("bind: address
already in use"). Ports are therefore drawn at random from outside that range and
checked free by binding them.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
# Below this are the ports other software on a developer's machine tends to listen on
# (PostgreSQL, Redis, web servers).
LOWEST = 20000
_ATTEMPTS = 200


def ephemeral_ports() -> range:
    """The kernel's range for outgoing connections' local ports (Linux's default when
    the file cannot be read)."""
    try:
        low, high = (int(part) for part in EPHEMERAL_RANGE.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def _candidates(ephemeral: range) -> list[range]:
    spans = [range(LOWEST, ephemeral.start), range(ephemeral.stop, 65536)]
    return [span for span in spans if len(span) >= 100]


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, pick: random.Random | None = None) -> int:
    """A TCP port on loopback that nothing listens on now, outside the ephemeral range;
    an ephemeral one only if the machine leaves no room outside it."""
    chooser = pick or random.SystemRandom()
    spans = _candidates(ephemeral_ports())
    if spans:
        for _ in range(_ATTEMPTS):
            span = chooser.choices(spans, weights=[len(s) for s in spans])[0]
            port = chooser.choice(span)
            if _bindable(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
