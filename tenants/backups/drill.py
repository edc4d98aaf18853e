"""The restore drill: prove that a tenant's newest backup restores and is whole.

The backup's key is unwrapped (through the tenant's KEK in the key service), its object
streamed out of the backup bucket, hashed and decrypted chunk by chunk, its SQL renamed
from the tenant schema to a scratch schema (`restore_<drill id>`, owned by the
provisioner, granted to no tenant role) and fed to `psql` in ONE transaction. The
transaction commits only once the whole object has decrypted and its SHA-256 matches the
catalogue; otherwise psql is killed before it commits, so nothing is restored at all. The
restored copy's row counts are compared with those counted while dumping, and its audit
chain is recomputed (`verify_chain`); then the scratch schema is dropped.

Every drill, passed or failed, is recorded in `restore_drills` (counts, table names,
error kinds: no customer content) and audited in the tenant's own log
(`backup.restore_drill`); a failure is also logged as an error and counts the tenant
in the `audora_restore_drills_failed_tenants` gauge until a drill of theirs passes (the
alert, I4). A backup
that cannot be read (its key destroyed, its ciphertext altered or cut short) fails with
`BackupUnreadable`, and nothing but the drill's record and audit event is written: the
live schema is never touched, nor is the backup.

psql runs with `VERBOSITY=sqlstate` and no error context, so what it prints on a failure
is an error code, never a row it was loading.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from sqlalchemy import insert, select, text

from audora.platform.crypto.envelope import IntegrityError
from audora.platform.crypto.stream import decrypt_stream
from audora.platform.db.pg_tools import PsqlRefused, run_script
from audora.platform.db.tenant_binding import (
    TenantRef,
    TenantUnitOfWork,
    point_provisioner_at_scratch,
)
from audora.platform.db.tenant_names import ScratchSchema, scratch_schema, tenant_schema
from audora.platform.keys.service import KeyServiceError
from audora.platform.metrics.gauges import RESTORE_DRILLS_FAILED, mark_failing
from audora.platform.runtime import Runtime
from audora.platform.storage.backup_store import backup_bucket
from audora.platform.storage.s3_admin import missing
from audora.tenants.audit.log import AuditEntry, append_alone, verify_chain
from audora.tenants.backups.dump_text import DumpFormatError, ScratchRewriter
from audora.tenants.backups.keys import backup_key_context
from audora.tenants.backups.service import backup_binding
from audora.tenants.backups.tables import backups, restore_drills

log = logging.getLogger(__name__)

ACTOR = "system:backups"


class BackupUnreadable(RuntimeError):
    """The backup cannot be opened: its key is gone, or its bytes are not what was
    stored. `kind` says which, for the record: key_unavailable, integrity, missing."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class RestoreFailed(RuntimeError):
    """The backup opened but did not restore (psql refused it)."""


@dataclass
class DrillResult:
    id: uuid.UUID
    tenant_id: uuid.UUID
    backup_id: uuid.UUID | None
    ok: bool
    details: dict[str, Any] = field(default_factory=dict)


async def _opened(runtime: Runtime, tenant_id: uuid.UUID, row: Any) -> AsyncGenerator[bytes, None]:
    """The backup's plaintext, chunk by chunk; `BackupUnreadable` as soon as it is known
    that it cannot be had. The hash is checked after the last chunk."""
    try:
        key = await runtime.keys.decrypt_data_key(
            tenant_id, bytes(row.wrapped_key), backup_key_context(tenant_id, row.id)
        )
    except KeyServiceError as exc:
        raise BackupUnreadable(
            "key_unavailable",
            f"backup {row.id}: its key did not unwrap ({type(exc).__name__}); "
            "the tenant's key may have been destroyed",
        ) from None
    bucket = await backup_bucket(runtime.settings)
    digest = hashlib.sha256()

    async def hashed() -> AsyncIterator[bytes]:
        async for piece in bucket.get_stream(row.object_key):
            digest.update(piece)
            yield piece

    try:
        async for chunk in decrypt_stream(key, backup_binding(tenant_id, row.object_key), hashed()):
            yield chunk
    except IntegrityError:
        raise BackupUnreadable(
            "integrity", f"backup {row.id}: its ciphertext failed authentication"
        ) from None
    except ClientError as exc:
        if missing(exc):
            raise BackupUnreadable("missing", f"backup {row.id}: its object is gone") from None
        raise
    if row.sha256 is None or digest.digest() != bytes(row.sha256):
        raise BackupUnreadable("integrity", f"backup {row.id}: its SHA-256 does not match")


async def _restore(
    runtime: Runtime, tenant_id: uuid.UUID, row: Any, scratch: ScratchSchema
) -> None:
    """The backup into `scratch`, by psql as the provisioner of the tenant's cluster (the
    scratch copy sits beside the tenant's schema), in one transaction that commits only
    once every byte is authenticated and its SHA-256 matched the catalogue."""
    rewriter = ScratchRewriter(tenant_schema(tenant_id), scratch)
    urls = await runtime.tenant_engines.urls_for(tenant_schema(tenant_id))

    async def rewritten() -> AsyncGenerator[bytes, None]:
        async with contextlib.aclosing(_opened(runtime, tenant_id, row)) as plaintext:
            async for chunk in plaintext:
                yield rewriter.feed(chunk)
        yield rewriter.finish()

    try:
        await run_script(runtime.settings, urls.provisioner_database_url, rewritten())
    except DumpFormatError as exc:
        raise RestoreFailed(f"backup {row.id}: {exc}") from None
    except PsqlRefused as exc:
        sqlstate = exc.stderr.decode(errors="replace").strip()[-200:]
        raise RestoreFailed(f"backup {row.id}: psql exited with {exc.code} ({sqlstate})") from None


async def _check(
    runtime: Runtime, tenant_id: uuid.UUID, row: Any, scratch: ScratchSchema
) -> dict[str, Any]:
    expected: dict[str, int] = dict(row.row_counts or {})
    provisioner = await runtime.tenant_engines.provisioner_for(tenant_schema(tenant_id))
    quote = provisioner.dialect.identifier_preparer.quote
    found: dict[str, int] = {}
    async with provisioner.connect() as conn, conn.begin():
        for table in sorted(expected):
            found[table] = (
                # The schema name is validated; the table name is quoted as an identifier.
                await conn.execute(text(f"SELECT count(*) FROM ONLY {scratch}.{quote(table)}"))  # noqa: S608
            ).scalar_one()
        await point_provisioner_at_scratch(conn, scratch)
        chain = await verify_chain(TenantUnitOfWork(conn, TenantRef(tenant_schema(tenant_id))))
    mismatched = sorted(t for t in expected if found.get(t) != expected[t])
    return {
        "tables": len(expected),
        "rows": sum(found.values()),
        "counts_match": not mismatched,
        "mismatched_tables": mismatched,
        "audit_chain_valid": chain.valid,
        "audit_events": chain.events,
    }


async def _drop(runtime: Runtime, tenant_id: uuid.UUID, scratch: ScratchSchema) -> None:
    provisioner = await runtime.tenant_engines.provisioner_for(tenant_schema(tenant_id))
    async with provisioner.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {scratch} CASCADE"))


async def _newest_backup(runtime: Runtime, tenant_id: uuid.UUID) -> Any:
    async with runtime.platform_engine.connect() as conn:
        return (
            await conn.execute(
                select(backups)
                .where(backups.c.account_id == tenant_id, backups.c.status == "COMPLETE")
                .order_by(backups.c.taken_at.desc())
                .limit(1)
            )
        ).first()


async def restore_drill(runtime: Runtime, tenant_id: uuid.UUID) -> DrillResult:
    """Restore the tenant's newest complete backup into a scratch schema and verify it;
    record and audit the outcome, whatever it is. Never raises for a bad backup."""
    drill = DrillResult(uuid.uuid4(), tenant_id, None, ok=False)
    row = await _newest_backup(runtime, tenant_id)
    if row is None:
        drill.details = {"error": "no_backup", "message": "the tenant has no complete backup"}
    else:
        drill.backup_id = row.id
        drill.details = {"backup_taken_at": row.taken_at.isoformat()}
        scratch = scratch_schema(drill.id)
        try:
            await _restore(runtime, tenant_id, row, scratch)
            drill.details.update(await _check(runtime, tenant_id, row, scratch))
            drill.ok = bool(drill.details["counts_match"] and drill.details["audit_chain_valid"])
        except BackupUnreadable as exc:
            drill.details.update(error=exc.kind, message=str(exc))
        except RestoreFailed as exc:
            drill.details.update(error="restore_failed", message=str(exc))
        except Exception as exc:
            # Anything else (the store or the database unreachable, ...) is a failed
            # drill too, recorded like the others; its traceback goes to the log.
            log.exception("restore drill %s of tenant %s broke", drill.id, tenant_id)
            drill.details.update(error="drill_failed", message=type(exc).__name__)
        finally:
            with contextlib.suppress(Exception):
                await _drop(runtime, tenant_id, scratch)
    await _record(runtime, drill)
    return drill


async def _record(runtime: Runtime, drill: DrillResult) -> None:
    now = runtime.clock.now()
    async with runtime.platform_engine.begin() as conn:
        await conn.execute(
            insert(restore_drills).values(
                id=drill.id,
                account_id=drill.tenant_id,
                backup_id=drill.backup_id,
                at=now,
                ok=drill.ok,
                details=drill.details,
            )
        )
    await mark_failing(runtime.redis, RESTORE_DRILLS_FAILED, drill.tenant_id, not drill.ok)
    if not drill.ok:
        log.error(
            "restore drill %s of tenant %s FAILED: %s",
            drill.id,
            drill.tenant_id,
            drill.details.get("message") or drill.details,
        )
    try:
        await append_alone(
            runtime.tenant_engines,
            TenantRef(tenant_schema(drill.tenant_id)),
            now,
            AuditEntry(
                ACTOR,
                "backup.restore_drill",
                f"backup:{drill.backup_id}" if drill.backup_id else None,
                details={"drill": str(drill.id), "ok": drill.ok, **drill.details},
            ),
        )
    except Exception:
        # A tenant whose schema is gone (purged) has no audit log left to write to; the
        # platform's record above stands.
        log.exception("restore drill %s: could not audit it in the tenant's log", drill.id)
