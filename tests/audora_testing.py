"""Helpers the tests share (importable because pytest puts tests/ on the path)."""

from __future__ import annotations

import asyncio
import email
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import Engine, text

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.runtime import Runtime
from audora.platform.storage.s3_admin import s3_client
from audora.tenants.registry.due_work import Sweep, mark_statement

REPO = Path(__file__).resolve().parent.parent

PASSWORD = "correct horse battery staple"
# Where the `api` fixture's requests come from: sessions are bound to both.
TEST_IP = "203.0.113.7"
TEST_AGENT = "audora-tests/1.0"


def client_from(app: Any, ip: str, user_agent: str) -> httpx.AsyncClient:
    """An HTTP client into the in-process API, as a device at `ip` with `user_agent`."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(ip, 51000)),
        base_url="http://audora.test",
        headers={"user-agent": user_agent},
    )


class GraphQL:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = response.json()
        return body


SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) { token user { id email role } account { id name status } }
}
"""


async def sign_up(gql: GraphQL, name: str = "Acme Studio") -> dict[str, Any]:
    email = f"owner-{uuid.uuid4().hex[:12]}@example.com"
    result = await gql(
        SIGN_UP,
        {
            "input": {
                "accountName": name,
                "email": email,
                "password": PASSWORD,
                "fullName": "Olive Owner",
            }
        },
    )
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["signUp"]
    payload["email"] = email
    return payload


LOG_IN = "mutation($input: LogInInput!) { logIn(input: $input) { token } }"


@dataclass(frozen=True)
class Seat:
    token: str
    user_id: str  # the public id, `usr_<hex>`
    email: str


async def seat(
    gql: GraphQL,
    runtime: Runtime,
    superuser: Engine,
    owner: dict[str, Any],
    role: str,
    client_profile_ids: list[str] | None = None,
) -> Seat:
    """A new member of the owner's account with `role` (and, given public ids, scoped to
    those client profiles), made directly in the database, and signed in from `gql`'s
    client. Quicker than an emailed invitation, for tests about what a seat may do."""
    email = f"{role.lower()}-{uuid.uuid4().hex[:10]}@example.com"
    user_id = uuid.uuid4()
    scope = (
        [uuid.UUID(hex=i.split("_", 1)[1]) for i in client_profile_ids]
        if client_profile_ids is not None
        else None
    )
    with superuser.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO platform.users (id, email, password_hash, full_name) "
                "VALUES (:id, :e, :h, 'Seat Holder')"
            ),
            {"id": user_id, "e": email, "h": await runtime.passwords.hash(PASSWORD)},
        )
        conn.execute(
            text(
                "INSERT INTO platform.memberships (account_id, user_id, role, client_profile_ids) "
                "VALUES (:a, :u, :r, :s)"
            ),
            {
                "a": uuid.UUID(hex=owner["account"]["id"][4:]),
                "u": user_id,
                "r": role,
                "s": scope,
            },
        )
    result = await gql(LOG_IN, {"input": {"email": email, "password": PASSWORD}})
    assert "errors" not in result, result
    return Seat(result["data"]["logIn"]["token"], f"usr_{user_id.hex}", email)


def error_codes(result: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]


CREATE_PROFILE = """
mutation Create($input: CreateClientProfileInput!) {
  createClientProfile(input: $input) { id name budget notes createdBy { email } }
}
"""


async def create_profile(gql: GraphQL, token: str, name: str, **extra: Any) -> dict[str, Any]:
    result = await gql(CREATE_PROFILE, {"input": {"name": name, **extra}}, token=token)
    assert "errors" not in result, result
    profile: dict[str, Any] = result["data"]["createClientProfile"]
    return profile


def column_storage(superuser: Engine, schema: str) -> list[tuple[str, str, str]]:
    """(table, column, attstorage) for every column of `schema`'s tables: how PostgreSQL
    stores its values ('p' inline only, 'x' TOASTable), which information_schema omits."""
    with superuser.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, a.attname, a.attstorage FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :s AND c.relkind = 'r' AND a.attnum > 0 "
                "AND NOT a.attisdropped ORDER BY 1, 2"
            ),
            {"s": schema},
        ).all()
    return [(str(t), str(c), str(k)) for t, c, k in rows]


def schema_of(account_id: str) -> str:
    """The tenant schema behind a public account id (`acc_<hex>` -> `t_<hex>`)."""
    return "t_" + account_id.removeprefix("acc_")


def access_log_rows(superuser: Engine, owner: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of a signed-up owner's tenant access log, oldest first, as the operator
    reads them."""
    with superuser.connect() as conn:
        rows = conn.execute(
            text(f"SELECT * FROM {schema_of(owner['account']['id'])}.access_log ORDER BY at")
        ).mappings()
        return [dict(r) for r in rows]


def dead_url(url: str) -> str:
    """The same URL pointed at a loopback port where nothing listens."""
    from audora.platform.stack.ports import free_port

    parts = urlsplit(url)
    host = parts.netloc.rsplit(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{host}:{free_port()}"))


CREATE_CALL = """
mutation CreateCall($input: CreateCallInput!) {
  createCall(input: $input) { id title status consent { participantsNotified methods } }
}
"""

CREATE_UPLOAD = """
mutation Upload($callId: ID!) {
  createRecordingUpload(callId: $callId) { uploadUrl expiresAt maxBytes }
}
"""

CONSENT = {"participantsNotified": True, "methods": ["VERBAL"], "jurisdiction": "EU"}


async def create_call(gql: GraphQL, token: str, profile_id: str, title: str = "Kickoff") -> str:
    result = await gql(
        CREATE_CALL,
        {"input": {"clientProfileId": profile_id, "title": title, "consent": CONSENT}},
        token=token,
    )
    assert "errors" not in result, result
    call_id: str = result["data"]["createCall"]["id"]
    return call_id


async def upload_path(gql: GraphQL, token: str, call_id: str) -> str:
    """The path of a fresh upload URL for `call_id` (the host is the test client's)."""
    result = await gql(CREATE_UPLOAD, {"callId": call_id}, token=token)
    assert "errors" not in result, result
    return urlsplit(result["data"]["createRecordingUpload"]["uploadUrl"]).path


def wav_bytes(payload: bytes) -> bytes:
    """A WAV file's signature in front of `payload`: enough to pass as audio."""
    return b"RIFF" + len(payload).to_bytes(4, "little") + b"WAVEfmt " + payload


class Served:
    """The API as `make run` serves it: its own process, over TLS, on a free port."""

    def __init__(self, port: int, ca: Path, pid: int = 0) -> None:
        self.port = port
        self.ca = ca
        self.pid = pid
        self.url = f"https://localhost:{port}"


def admin_s3(settings: Settings) -> Any:
    """The object store's administrator client: for inspecting what the platform stored."""
    return s3_client(
        settings.s3_endpoint,
        settings.s3_admin_access_key,
        settings.s3_admin_secret_key,
        region=settings.s3_region,
    )


def tenant_bucket(settings: Settings, account_id: str) -> str:
    """The bucket of the account with public id `account_id` (`acc_<hex>`)."""
    return f"{settings.bucket_prefix}{account_id.removeprefix('acc_')}"


def raw_objects(settings: Settings, account_id: str) -> dict[str, bytes]:
    """Every object and unfinished multipart upload in a tenant's bucket, as the store
    holds them (read with the administrator's keys)."""
    admin = admin_s3(settings)
    bucket = tenant_bucket(settings, account_id)
    listed = admin.list_objects_v2(Bucket=bucket).get("Contents", [])
    pending = admin.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    objects = {
        o["Key"]: admin.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed
    }
    objects.update({f"multipart:{u['Key']}": b"" for u in pending})
    return objects


# Under root the stack runs its parts as system users (platform/stack/users.py); what
# those users can and cannot do is only testable as root.
root_only = pytest.mark.skipif(
    os.geteuid() != 0, reason="the stack runs parts as system users only when started as root"
)


def run_as(user: str, code: str, *, stdin: str = "", env: dict[str, str] | None = None) -> Any:
    """Run `code` in this interpreter as the system user `user` (its own group only) and
    return what it printed as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        user=user,
        group=user,
        extra_groups=[],
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def mail_to(folder: Path, address: str, subject: str | None = None) -> list[EmailMessage]:
    """Every message the SMTP catcher has written to `folder` with `address` among its
    recipients (and `subject`, if given), oldest first."""
    found: list[EmailMessage] = []
    for path in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        assert isinstance(message, EmailMessage)
        recipients = ",".join(str(message.get(h, "")) for h in ("To", "Cc")).lower()
        if address.lower() in recipients and subject in (None, message["Subject"]):
            found.append(message)
    return found


async def read_mail(
    folder: Path,
    address: str,
    subject: str | None = None,
    *,
    count: int = 1,
    within: float = 10.0,
) -> list[EmailMessage]:
    """Wait (bounded) until the catcher holds `count` such messages; exactly that many."""
    deadline = time.monotonic() + within
    while True:
        found = mail_to(folder, address, subject)
        if len(found) >= count or time.monotonic() > deadline:
            assert len(found) == count, f"{len(found)} messages for {address}, wanted {count}"
            return found
        await asyncio.sleep(0.05)


def mail_text(message: EmailMessage) -> str:
    """A plain-text message's body, with the wire's CRLF line ends made \\n."""
    content = message.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


INVITE = """
mutation Invite($input: InviteMemberInput!) {
  inviteMember(input: $input) { id email role clientProfileIds expiresAt }
}
"""

ACCEPT = """
mutation Accept($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) { token user { id email fullName role } account { id name } }
}
"""

INVITATION_SUBJECT = "Your invitation to Audora"


async def invitation_tokens(mail_dir: Path, address: str, *, count: int = 1) -> list[str]:
    """The tokens in the invitations emailed to `address`, oldest first."""
    tokens = []
    for message in await read_mail(mail_dir, address, INVITATION_SUBJECT, count=count):
        match = re.search(r"\baui_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])", mail_text(message))
        assert match is not None, mail_text(message)
        tokens.append(match.group(0))
    return tokens


async def invitation_token(mail_dir: Path, address: str) -> str:
    """The token in the one invitation emailed to `address`."""
    (token,) = await invitation_tokens(mail_dir, address)
    return token


async def invite_and_accept(
    gql: GraphQL,
    mail_dir: Path,
    owner_token: str,
    role: str = "MEMBER",
    client_profile_ids: list[str] | None = None,
) -> dict[str, Any]:
    """A new member, invited by the owner and accepted from `gql`'s client."""
    address = f"member-{uuid.uuid4().hex[:12]}@example.com"
    invited = await gql(
        INVITE,
        {"input": {"email": address, "role": role, "clientProfileIds": client_profile_ids}},
        token=owner_token,
    )
    assert "errors" not in invited, invited
    token = await invitation_token(mail_dir, address)
    accepted = await gql(
        ACCEPT, {"input": {"token": token, "password": PASSWORD, "fullName": "Mo Member"}}
    )
    assert "errors" not in accepted, accepted
    payload: dict[str, Any] = accepted["data"]["acceptInvitation"]
    payload["email"] = address
    return payload


def raw_id(public_id: str) -> uuid.UUID:
    """The row's UUID behind a public id (`cli_<hex>` -> UUID)."""
    return uuid.UUID(hex=public_id.split("_", 1)[1])


def mark_due(superuser: Engine, tenant: uuid.UUID, sweep: str, at: datetime) -> None:
    """What the path a test's own SQL stands in for does first: mark the tenant due for
    `sweep` at `at` (tenants/registry/due_work.py), an earlier mark standing."""
    with superuser.begin() as conn:
        conn.execute(mark_statement(tenant, Sweep(sweep), at))


def run_audora(env: dict[str, str], *args: str) -> str:
    """Run the operator CLI as a subprocess; its standard output."""
    result = subprocess.run(
        [sys.executable, "-m", "audora.platform.cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


async def run_jobs(runtime: Any, functions: list[Any], **ctx: Any) -> None:
    """Run every queued job among `functions` now, in an in-process arq worker."""
    from arq.connections import RedisSettings
    from arq.worker import Worker

    from audora.platform.jobs.queue import QUEUE

    worker = Worker(
        functions=functions,
        redis_settings=RedisSettings.from_dsn(runtime.settings.redis_url),
        queue_name=QUEUE,
        burst=True,
        poll_delay=0.05,
        ctx={"runtime": runtime, **ctx},
    )
    try:
        await worker.async_run()
    finally:
        await worker.close()


@contextmanager
def moved(clock: FrozenClock, delta: timedelta) -> Iterator[None]:
    """The application clock moved by `delta` for the block, and back after it."""
    clock.advance(delta)
    try:
        yield
    finally:
        clock.advance(-delta)
