"""Known devices, and the alert when a user signs in from a new one.

A device is what a login can tell about its client without keeping any of it: the
SHA-256 of its network and its user agent. The network is the /24 around an IPv4
address and the /48 around an IPv6 one (an IPv4-mapped IPv6 address counts as IPv4):
an office or a home keeps its prefix while its provider reshuffles the last bits, so
a laptop that reconnects is not "new", while the same browser in another city, another
provider or a VPN is. The user agent is taken whole: a browser update reads as a new
device, which costs one needless email now and then; trimming versions would hide a
different browser on the same network, which is what an alert is for.

Sign-up, and accepting an invitation as a new user, remember the first device without
alerting. After a login, a device new to a user who already had one is audited
(`login.new_device`) and, unless `AUDORA_NEW_DEVICE_ALERTS` is off, a job emails the
user and the account's owners (tenants/identity/device_alerts.py). The job is given
ids only. If it cannot be queued, the login fails (its session is never handed out):
a login nobody could be told about is not let through.
"""

from __future__ import annotations

import hashlib
import ipaddress
import uuid

from audora.platform.auth import repository
from audora.platform.auth.service import ClientInfo, IssuedSession
from audora.platform.jobs.queue import enqueue
from audora.platform.metrics import auth_events
from audora.platform.runtime import Runtime
from audora.tenants.audit.security_events import record

IPV4_PREFIX = 24
IPV6_PREFIX = 48
ALERT_JOB = "new_device_alert_job"


def network(ip: str | None) -> str:
    """The prefix an address belongs to, as text ("198.51.100.0/24")."""
    if ip is None:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def fingerprint(client: ClientInfo) -> bytes:
    return hashlib.sha256(f"{network(client.ip)}\n{client.agent}".encode()).digest()


async def remember(runtime: Runtime, user_id: uuid.UUID, client: ClientInfo) -> tuple[bool, bool]:
    """Record the client's device for the user: (new, had_others)."""
    async with runtime.platform_engine.begin() as conn:
        return await repository.remember_device(
            conn, user_id, fingerprint(client), runtime.clock.now()
        )


async def after_login(runtime: Runtime, issued: IssuedSession, client: ClientInfo) -> None:
    """Remember the device a session was opened from; alert if it is new to a user who
    had others. Called once the session is committed, so the job finds it."""
    new, had_others = await remember(runtime, issued.user_id, client)
    if not (new and had_others):
        return
    await auth_events.new_device_login(runtime)
    alerting = runtime.settings.new_device_alerts
    await record(
        runtime,
        issued.account_id,
        "login.new_device",
        user_id=issued.user_id,
        ip=client.ip,
        session=str(issued.session_id),
        userAgent=client.agent,
        alerted=alerting,
    )
    if alerting:
        try:
            await enqueue(
                runtime.settings.redis_url,
                ALERT_JOB,
                str(issued.user_id),
                str(issued.account_id),
                str(issued.session_id),
            )
        except BaseException:
            # The login fails closed; the session it opened must not outlive it (or
            # count against the seat's limit).
            async with runtime.platform_engine.begin() as conn:
                await repository.revoke_session(conn, issued.session_id, runtime.clock.now())
            raise
