"""Data exports (L3): an owner or admin asks for one (also during a closure's grace); a
job builds the ZIP (`export_archive.py`) and stores it encrypted in the tenant's bucket,
chunk by chunk under a data key of its own (like recordings); the owners (and the
requester) get an email with a short-lived download link; 24 hours after it was built
(the schedule's EXPORTS row) the retention run deletes it.

- The tenant is always the session's: an export id of another tenant is not found.
- The link's token travels by email only; `export_links` keeps its hash. The link is
  valid for `AUDORA_EXPORT_LINK_MINUTES`, never past the export's own expiry; asking for
  the export again (`dataExport(id)`) gives a fresh link to an owner or admin.
- `GET /exports/{token}` streams the archive, decrypting on the fly; 404 for a token
  that names nothing, 410 for an expired link or export. Every download is audited.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from arq import Retry
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.auth.permissions import Permission, allows
from audora.platform.auth.principal import Principal
from audora.platform.crypto.envelope import Binding
from audora.platform.crypto.stream import decrypt_stream, encrypt_stream
from audora.platform.db.tenant_binding import TenantRef, TenantUnitOfWork, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.errors import ErrorCode, forbidden, not_found
from audora.platform.jobs.queue import enqueue
from audora.platform.mail.sender import Mail, MailError, MailKind
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append
from audora.tenants.identity import repository as identity
from audora.tenants.keys.data_keys import key_context
from audora.tenants.lifecycle.closure import ACTIVE, IN_GRACE
from audora.tenants.lifecycle.export_archive import export_zip
from audora.tenants.lifecycle.export_tables import data_exports
from audora.tenants.lifecycle.schedule import DataClass, period_of
from audora.tenants.lifecycle.tables import export_links
from audora.tenants.registry.due_work import Sweep, mark_due
from audora.tenants.registry.repository import is_live
from audora.tenants.registry.tables import accounts

log = logging.getLogger(__name__)

PURPOSE = "export"
KEY_VERSION = 1  # one key per export, never rotated: the export lives for 24 hours
MAX_TRIES = 3
RETRY_SECONDS = 60
# A PENDING export this old has lost its job (Redis refused it, a worker died): the
# retention run queues it again.
REQUEUE_AFTER = timedelta(minutes=15)
MAIL_SUBJECT = "Audora: your data export is ready"
# Accounts whose data may be exported: an active one, or one in its grace (the point of
# the grace). A suspended account's is not, until an operator lifts the suspension.
EXPORTABLE = frozenset({ACTIVE, *IN_GRACE})


@dataclass(frozen=True)
class ExportRecord:
    id: uuid.UUID
    status: str
    requested_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None
    size_bytes: int | None
    download_url: str | None = None


def _record(row: Any, url: str | None = None) -> ExportRecord:
    return ExportRecord(
        row.id, row.status, row.requested_at, row.ready_at, row.expires_at, row.size_bytes, url
    )


def object_key(export_id: uuid.UUID) -> str:
    return f"exports/{export_id}.zip.enc"


def export_key_context(tenant_id: uuid.UUID, export_id: uuid.UUID) -> dict[str, str]:
    return {**key_context(tenant_id, PURPOSE), "export": str(export_id)}


def _binding(tenant_id: uuid.UUID, export_id: uuid.UUID) -> Binding:
    return Binding(tenant_id, object_key(export_id))


def lifetime() -> timedelta:
    return period_of(DataClass.EXPORTS)


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _url(runtime: Runtime, base_url: str, token: str) -> str:
    base = (runtime.settings.public_url or base_url or runtime.settings.mail_base_url).rstrip("/")
    return f"{base}/exports/{token}"


async def _issue_link(
    engine: AsyncEngine,
    tenant_id: uuid.UUID,
    export_id: uuid.UUID,
    *,
    now: datetime,
    expires_at: datetime,
    minutes: int,
) -> str:
    token = "aux_" + secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        await conn.execute(
            insert(export_links).values(
                token_hash=_token_hash(token),
                account_id=tenant_id,
                export_id=export_id,
                created_at=now,
                expires_at=min(expires_at, now + timedelta(minutes=minutes)),
            )
        )
    return token


def _check_exportable(principal: Principal) -> None:
    if not allows(principal.role, Permission.ACCOUNT_EXPORT):
        raise forbidden("only owners and admins export the account's data")
    if principal.account_status not in EXPORTABLE:
        raise forbidden(f"a {principal.account_status.lower()} account's data cannot be exported")


async def request_export(runtime: Runtime, principal: Principal, *, ip: str | None) -> ExportRecord:
    """Queue an export of the caller's tenant; an export still being built is returned
    instead of starting a second one."""
    _check_exportable(principal)
    now = runtime.clock.now()
    async with tenant_transaction(runtime.tenant_engines, principal.tenant) as uow:
        pending = (
            await uow.execute(
                select(data_exports).where(data_exports.c.status == "PENDING").limit(1)
            )
        ).first()
        if pending is not None:
            return _record(pending)
        # Before the commit: retention queues the build again if its job is lost, and
        # deletes the export once it expires.
        await mark_due(
            runtime.platform_engine, principal.account_id, Sweep.RETENTION, now + REQUEUE_AFTER
        )
        export_id = uuid.uuid4()
        row = (
            await uow.execute(
                insert(data_exports)
                .values(
                    id=export_id,
                    status="PENDING",
                    requested_by=principal.user_id,
                    requested_at=now,
                )
                .returning(data_exports)
            )
        ).one()
        await append(
            uow,
            now,
            AuditEntry(f"user:{principal.user_id}", "export.requested", f"export:{export_id}", ip),
        )
        await uow.commit()
    await _queue(runtime, principal.account_id, export_id)
    return _record(row)


async def _queue(runtime: Runtime, tenant_id: uuid.UUID, export_id: uuid.UUID) -> None:
    try:
        await enqueue(
            runtime.settings.redis_url,
            "build_export_job",
            str(tenant_id),
            str(export_id),
            job_id=f"export:{export_id}",
        )
    except Exception:
        # The row is PENDING: the retention run queues it again.
        log.exception("could not queue export %s; the retention run will", export_id)


async def get_export(
    runtime: Runtime,
    uow: TenantUnitOfWork,
    principal: Principal,
    export_id: uuid.UUID,
    *,
    base_url: str,
) -> ExportRecord:
    """One export of the caller's tenant; a READY one with a fresh download link."""
    if not allows(principal.role, Permission.ACCOUNT_EXPORT):
        raise forbidden("only owners and admins export the account's data")
    row = (await uow.execute(select(data_exports).where(data_exports.c.id == export_id))).first()
    if row is None:
        raise not_found("export")
    now = runtime.clock.now()
    if row.status != "READY" or row.expires_at is None or row.expires_at <= now:
        return _record(row)
    token = await _issue_link(
        runtime.platform_engine,
        principal.account_id,
        export_id,
        now=now,
        expires_at=row.expires_at,
        minutes=runtime.settings.export_link_minutes,
    )
    return _record(row, _url(runtime, base_url, token))


async def list_exports(uow: TenantUnitOfWork, principal: Principal) -> list[ExportRecord]:
    if not allows(principal.role, Permission.ACCOUNT_EXPORT):
        raise forbidden("only owners and admins export the account's data")
    rows = await uow.execute(
        select(data_exports).order_by(data_exports.c.requested_at.desc()).limit(50)
    )
    return [_record(row) for row in rows]


async def _account_facts(runtime: Runtime, tenant_id: uuid.UUID) -> dict[str, Any]:
    async with runtime.platform_engine.connect() as conn:
        account = (
            await conn.execute(
                select(
                    accounts.c.id, accounts.c.name, accounts.c.status, accounts.c.created_at
                ).where(accounts.c.id == tenant_id)
            )
        ).one()
        members = await identity.members_of(conn, tenant_id)
    return {
        "id": account.id,
        "name": account.name,
        "status": account.status,
        "createdAt": account.created_at,
        "exportedAt": runtime.clock.now(),
        "members": [
            {"email": m["email"], "fullName": m["full_name"], "role": m["role"]} for m in members
        ],
    }


async def build_export(runtime: Runtime, tenant_id: uuid.UUID, export_id: uuid.UUID) -> bool:
    """Build and store the export, then mail its link; False if it was not PENDING."""
    tenant = TenantRef(tenant_schema(tenant_id))
    async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
        row = (
            await uow.execute(select(data_exports).where(data_exports.c.id == export_id))
        ).first()
        if row is None or row.status != "PENDING":
            return False
        made = await runtime.keys.generate_data_key(
            tenant_id, export_key_context(tenant_id, export_id)
        )
        bucket = await runtime.buckets.of(tenant_id)
        sealed = encrypt_stream(
            made.plaintext,
            KEY_VERSION,
            _binding(tenant_id, export_id),
            export_zip(uow, runtime.keys, tenant_id, await _account_facts(runtime, tenant_id)),
        )
        stored = await bucket.put_stream(object_key(export_id), sealed)
        now = runtime.clock.now()
        expires_at = now + lifetime()
        await uow.execute(
            update(data_exports)
            .where(data_exports.c.id == export_id)
            .values(
                status="READY",
                ready_at=now,
                expires_at=expires_at,
                object_key=object_key(export_id),
                wrapped_key=made.wrapped,
                size_bytes=stored,
            )
        )
        await append(
            uow,
            now,
            AuditEntry(
                "system:export", "export.ready", f"export:{export_id}", details={"bytes": stored}
            ),
        )
        await uow.commit()
    await _mail_link(runtime, tenant_id, export_id, row.requested_by, now, expires_at)
    return True


async def _mail_link(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    export_id: uuid.UUID,
    requested_by: uuid.UUID,
    now: datetime,
    expires_at: datetime,
) -> None:
    async with runtime.platform_engine.connect() as conn:
        owners = await identity.owner_emails(conn, tenant_id)
        requester = await identity.email_of(conn, requested_by)
    token = await _issue_link(
        runtime.platform_engine,
        tenant_id,
        export_id,
        now=now,
        expires_at=expires_at,
        minutes=runtime.settings.export_link_minutes,
    )
    recipients = tuple(dict.fromkeys([*owners, *([requester] if requester else [])]))
    minutes = runtime.settings.export_link_minutes
    try:
        await runtime.mail.send(
            Mail(
                recipients,
                MAIL_SUBJECT,
                "The export of your Audora account's data is ready: client profiles, "
                "calls, transcripts, documents (Markdown and JSON) and the audit log, "
                "in one ZIP file.\n\n"
                f"Download it within {minutes} minutes (the link works once you are "
                "signed out, so keep this email to yourself):\n"
                f"  {_url(runtime, '', token)}\n\n"
                "Need a new link later? Ask for the export again in Audora "
                f"(dataExport). The export itself is deleted 24 hours after it was made.\n",
                kind=MailKind.TRANSACTIONAL,
            )
        )
    except MailError:
        # The export is READY: a fresh link is one dataExport query away.
        log.exception("the link of export %s could not be mailed", export_id)


async def _fail(runtime: Runtime, tenant_id: uuid.UUID, export_id: uuid.UUID, reason: str) -> None:
    async with tenant_transaction(
        runtime.tenant_engines, TenantRef(tenant_schema(tenant_id))
    ) as uow:
        await uow.execute(
            update(data_exports)
            .where(data_exports.c.id == export_id, data_exports.c.status == "PENDING")
            .values(status="FAILED", failure_reason=reason)
        )
        await append(
            uow,
            runtime.clock.now(),
            AuditEntry("system:export", "export.failed", f"export:{export_id}"),
        )
        await uow.commit()


async def build_export_job(ctx: dict[str, Any], tenant_id: str, export_id: str) -> bool:
    runtime: Runtime = ctx["runtime"]
    tenant, export = uuid.UUID(tenant_id), uuid.UUID(export_id)
    if not await is_live(runtime.platform_engine, tenant):
        log.warning("export %s not built: its account is purged or being purged", export_id)
        return False
    try:
        return await build_export(runtime, tenant, export)
    except Exception as exc:
        tries = int(ctx.get("job_try", 1))
        if tries >= MAX_TRIES:
            log.exception("export %s failed for good", export_id)
            await _fail(runtime, tenant, export, "the export could not be built")
            return False
        log.exception("export %s failed (try %d); retrying", export_id, tries)
        raise Retry(defer=RETRY_SECONDS * tries) from exc


class DownloadRefused(Exception):
    def __init__(self, status: int, message: str, code: ErrorCode) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Download:
    account_id: uuid.UUID
    export_id: uuid.UUID
    size_bytes: int
    chunks: AsyncIterator[bytes]


async def open_download(runtime: Runtime, token: str, *, ip: str | None) -> Download:
    """The plaintext archive behind a link, decrypted as it streams; the download is
    audited before the first byte."""
    unknown = DownloadRefused(404, "no such download link", ErrorCode.NOT_FOUND)
    if not 16 <= len(token) <= 128:
        raise unknown
    now = runtime.clock.now()
    async with runtime.platform_engine.connect() as conn:
        link = (
            await conn.execute(
                select(export_links, accounts.c.status)
                .join(accounts, accounts.c.id == export_links.c.account_id)
                .where(export_links.c.token_hash == _token_hash(token))
            )
        ).first()
    if link is None or link.status == "PURGED":
        raise unknown
    if link.expires_at <= now:
        raise DownloadRefused(410, "this download link has expired", ErrorCode.NOT_FOUND)
    tenant_id, export_id = link.account_id, link.export_id
    tenant = TenantRef(tenant_schema(tenant_id))
    async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
        row = (
            await uow.execute(select(data_exports).where(data_exports.c.id == export_id))
        ).first()
        if row is None:
            raise unknown
        if row.status != "READY" or row.expires_at <= now or row.wrapped_key is None:
            raise DownloadRefused(410, "this export has expired", ErrorCode.NOT_FOUND)
        await append(
            uow,
            now,
            AuditEntry("link:export", "export.downloaded", f"export:{export_id}", ip),
        )
        await uow.commit()
    key = await runtime.keys.decrypt_data_key(
        tenant_id, bytes(row.wrapped_key), export_key_context(tenant_id, export_id)
    )
    bucket = await runtime.buckets.of(tenant_id)
    chunks = decrypt_stream(key, _binding(tenant_id, export_id), bucket.get_stream(row.object_key))
    return Download(tenant_id, export_id, int(row.size_bytes or 0), chunks)


@dataclass
class ExportSweep:
    expired: int = 0
    requeued: int = 0
    # When an export left next needs the sweep (its expiry, or its build's requeue).
    next_due: datetime | None = None


async def sweep_exports(runtime: Runtime, tenant_id: uuid.UUID) -> ExportSweep:
    """Delete the tenant's exports past their expiry (key dropped, then every version of
    the object, then the links), and queue again exports whose job was lost."""
    now = runtime.clock.now()
    sweep = ExportSweep()
    tenant = TenantRef(tenant_schema(tenant_id))
    async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
        expired = list(
            await uow.execute(
                update(data_exports)
                .where(
                    data_exports.c.status.in_(["READY", "FAILED"]),
                    data_exports.c.expires_at.is_not(None),
                    data_exports.c.expires_at <= now,
                )
                .values(status="EXPIRED", wrapped_key=None, deleted_at=now)
                .returning(data_exports.c.id, data_exports.c.object_key)
            )
        )
        for row in expired:
            await append(
                uow, now, AuditEntry("system:retention", "export.expired", f"export:{row.id}")
            )
        stuck = list(
            (
                await uow.execute(
                    select(data_exports.c.id).where(
                        data_exports.c.status == "PENDING",
                        data_exports.c.requested_at <= now - REQUEUE_AFTER,
                    )
                )
            ).scalars()
        )
        left = (
            await uow.execute(
                select(
                    select(func.min(data_exports.c.requested_at))
                    .where(data_exports.c.status == "PENDING")
                    .scalar_subquery()
                    .label("pending"),
                    select(func.min(data_exports.c.expires_at))
                    .where(data_exports.c.status.in_(["READY", "FAILED"]))
                    .scalar_subquery()
                    .label("expiring"),
                )
            )
        ).one()
        pending, expiring = left.pending, left.expiring
        await uow.commit()
    moments = [m for m in (pending and pending + REQUEUE_AFTER, expiring) if m is not None]
    sweep.next_due = min(moments, default=None)
    if expired:
        bucket = await runtime.buckets.of(tenant_id)
        for row in expired:
            if row.object_key:
                refused = await bucket.delete_versions(await bucket.versions_under(row.object_key))
                if refused:
                    log.error("export object %s could not be deleted", row.object_key)
        async with runtime.platform_engine.begin() as conn:
            await conn.execute(
                delete(export_links).where(
                    export_links.c.export_id.in_([row.id for row in expired])
                )
            )
    for export_id in stuck:
        await _queue(runtime, tenant_id, export_id)
    sweep.expired, sweep.requeued = len(expired), len(stuck)
    return sweep
