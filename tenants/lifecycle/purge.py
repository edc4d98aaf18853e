"""Purging an account after its grace (L3, L6): everything of the tenant is deleted, for
good, and a deletion certificate says what went.

The purge is a fixed sequence of stages, each recorded in `platform.purges` when it
starts and when it finishes, each idempotent. A purge interrupted anywhere (a crash, the
store down, the key service unreachable) resumes at its first unfinished stage on the
next run (the retention run's `purge_due_accounts`, or `audora tenants purge`), and
redoing a stage that had half happened is harmless.

Order matters:
1. `begin`: the tenant's own audit log records the purge; the owners' addresses are kept
   (in the purge's own row) for the certificate's mail, since their users may go.
2. `revoke_sessions`: nobody acts in the account from here on; its invitations, upload
   tickets and export links are deleted.
3. `destroy_keys`: the tenant's KEK is destroyed in the key service first of all the
   deletions (cryptographic erasure): from this moment every ciphertext of the tenant,
   wherever a copy of it lies (backups included), is unreadable, whatever happens to the
   later stages. Backups are left to their 30-day expiry (`tenants/backups/`); the
   certificate says how many there are and by when they are gone.
4. `delete_objects`: every object, version, delete marker and unfinished upload of the
   bucket, confirmed gone by listing, then the bucket.
5. `delete_bucket_identity`: the bucket's own access key and its sealed secret.
6. `drop_schema`: rows counted per table, then the schema and the tenant's role dropped.
7. `delete_users`: the account's seats; users who hold no seat in any other account are
   deleted with their sessions, factors and devices; the others keep their accounts.
8. `mark_purged`: the account row stays as the registry's record (status PURGED, its
   name blanked: it is the customer's).
9. `certificate`: written to `platform.deletion_certificates`: tenant id, each stage's
   start and finish, counts, SHA-256 hashes of the lists of what was deleted; no
   customer content.
10. `mail`: the certificate to the former owners; their addresses are then forgotten.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform.auth.tables import invitations, memberships, sessions, users
from audora.platform.db.role_makers import drop_tenant_role
from audora.platform.db.tenant_binding import TenantRef
from audora.platform.db.tenant_names import TenantSchema, tenant_schema
from audora.platform.errors import AppError, ErrorCode
from audora.platform.mail.sender import Mail, MailKind
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append_alone
from audora.tenants.backups.tables import backups
from audora.tenants.identity import repository as identity
from audora.tenants.keys.erasure import erase_tenant_keys
from audora.tenants.lifecycle.closure import IN_GRACE, PURGED
from audora.tenants.lifecycle.tables import deletion_certificates, export_links, purges
from audora.tenants.recordings.tables import upload_tickets
from audora.tenants.registry.tables import accounts, tenant_storage_identities
from audora.tenants.tables import TENANT_TABLES

log = logging.getLogger(__name__)

CERTIFICATE_SUBJECT = "Audora: deletion certificate for your account"
# Environments where an operator may purge an account before its grace has ended.
EARLY_PURGE_ENVS = frozenset({"dev", "test"})


@dataclass(frozen=True)
class Doomed:
    """The account being purged, as its registry row says."""

    account_id: uuid.UUID
    schema: TenantSchema
    bucket: str
    status: str
    closed_at: datetime | None
    purge_after: datetime | None


@dataclass
class PurgeOutcome:
    account_id: uuid.UUID
    resumed_at: str | None
    certificate: dict[str, Any] = field(default_factory=dict)


Facts = dict[str, Any]
Stage = Callable[[Runtime, Doomed, Facts], Awaitable[Facts]]


def _sha256_lines(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


async def _begin(runtime: Runtime, doomed: Doomed, facts: Facts) -> Facts:
    async with runtime.platform_engine.connect() as conn:
        owners = await identity.owner_emails(conn, doomed.account_id)
    await append_alone(
        runtime.tenant_engines,
        TenantRef(doomed.schema),
        runtime.clock.now(),
        AuditEntry(
            "system:purge",
            "account.purge_started",
            f"account:{doomed.account_id}",
            details={"purgeAfter": _iso(doomed.purge_after)},
        ),
    )
    return {"owners": owners}


async def _revoke_sessions(runtime: Runtime, doomed: Doomed, facts: Facts) -> Facts:
    account = doomed.account_id
    async with runtime.platform_engine.begin() as conn:
        revoked = await conn.execute(
            update(sessions)
            .where(sessions.c.account_id == account, sessions.c.revoked_at.is_(None))
            .values(revoked_at=runtime.clock.now())
        )
        dropped = {}
        for name, table in (
            ("invitations", invitations),
            ("uploadTickets", upload_tickets),
            ("exportLinks", export_links),
        ):
            dropped[name] = (
                await conn.execute(delete(table).where(table.c.account_id == account))
            ).rowcount
    return {
        "sessionsRevoked": facts.get("sessionsRevoked", 0) + revoked.rowcount,
        **{k: facts.get(k, 0) + v for k, v in dropped.items()},
    }


async def _destroy_keys(runtime: Runtime, doomed: Doomed, facts: Facts) -> Facts:
    await erase_tenant_keys(
        runtime.platform_engine, runtime.keys, doomed.account_id, runtime.clock.now()
    )
    runtime.buckets.forget(doomed.account_id)
    # Backups stay until their own expiry (the backup job deletes them), unreadable from
    # now on: their keys were wrapped by the KEK just destroyed.
    async with runtime.platform_engine.connect() as conn:
        kept = (
            await conn.execute(
                select(func.count(), func.max(backups.c.expires_at)).where(
                    backups.c.account_id == doomed.account_id, backups.c.deleted_at.is_(None)
                )
            )
        ).one()
    return {
        "tenantKey": "destroyed",
        "backupsUnreadable": int(kept[0]),
        "backupsDeletedBy": _iso(kept[1]),
    }


async def _delete_objects(runtime: Runtime, doomed: Doomed, facts: Facts) -> Facts:
    if facts.get("bucketDeleted"):
        return facts
    emptied = await asyncio.to_thread(runtime.storage.empty_and_delete_bucket, doomed.bucket)
    return {
        "objects": emptied.objects,
        "objectVersions": emptied.versions,
        "bytes": emptied.bytes,
        "uploadsAborted": emptied.uploads_aborted,
        "objectListSha256": emptied.listing_sha256,
        "bucketDeleted": True,
    }


async def _delete_bucket_identity(runtime: Runtime, doomed: Doomed, facts: Facts) -> Facts:
    await asyncio.to_thread(runtime.storage.delete_identity, doomed.bucket)
    async with runtime.platform_engine.begin() as conn:
        await conn.execute(
            delete(tenant_storage_identities).where(
                tenant_storage_identities.c.account_id == doomed.account_id
            )
        )
    return {"bucketIdentity": "deleted"}


async def _schema_exists(conn: AsyncConnection, schema: TenantSchema) -> bool:
    found = await conn.execute(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": str(schema)}
    )
    return found.first() is not None


async def _drop_schema(runtime: Runtime, doomed: Doomed, facts: Facts) -> Facts:
    schema = doomed.schema
    provisioner = await runtime.tenant_engines.provisioner_for(schema)
    async with provisioner.connect() as conn:
        await conn.begin()
        rows: dict[str, int] = dict(facts.get("rows", {}))
        if await _schema_exists(conn, schema):
            for table in TENANT_TABLES:
                # Names from our own metadata and a validated schema name.
                counted = await conn.exec_driver_sql(
                    f'SELECT count(*) FROM {schema}."{table.name}"'  # noqa: S608
                )
                rows[table.name] = int(counted.scalar_one())
            await conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        await drop_tenant_role(conn, schema)
        await conn.commit()
    return {"rows": rows, "schema": "dropped", "role": "dropped"}


async def _delete_users(runtime: Runtime, doomed: Doomed, facts: Facts) -> Facts:
    account = doomed.account_id
    async with runtime.platform_engine.begin() as conn:
        seated = list(
            (
                await conn.execute(
                    delete(memberships)
                    .where(memberships.c.account_id == account)
                    .returning(memberships.c.user_id)
                )
            ).scalars()
        )
        elsewhere = set(
            (
                await conn.execute(
                    select(memberships.c.user_id).where(memberships.c.user_id.in_(seated))
                )
            ).scalars()
        )
        alone = [u for u in seated if u not in elsewhere]
        if alone:
            await conn.execute(delete(users).where(users.c.id.in_(alone)))
        await conn.execute(delete(sessions).where(sessions.c.account_id == account))
    return {
        "seats": facts.get("seats", 0) + len(seated),
        "usersDeleted": facts.get("usersDeleted", 0) + len(alone),
        "usersKept": facts.get("usersKept", 0) + len(elsewhere),
        "deletedUserIdsSha256": facts.get("deletedUserIdsSha256")
        or _sha256_lines([str(u) for u in alone]),
    }


async def _mark_purged(runtime: Runtime, doomed: Doomed, facts: Facts) -> Facts:
    async with runtime.platform_engine.begin() as conn:
        await conn.execute(
            update(accounts)
            .where(accounts.c.id == doomed.account_id)
            .values(status=PURGED, purged_at=runtime.clock.now(), name="(purged)")
        )
    return {"status": PURGED}


async def _stage_rows(conn: AsyncConnection, account_id: uuid.UUID) -> list[Any]:
    """The purge's stage rows in the order the stages run: their start times may tie
    (a frozen or coarse clock), their places in STAGES never do."""
    rows = await conn.execute(select(purges).where(purges.c.account_id == account_id))
    order = {name: place for place, (name, _) in enumerate(STAGES)}
    return sorted(rows, key=lambda row: order.get(row.stage, len(order)))


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


async def _certificate(runtime: Runtime, doomed: Doomed, facts: Facts) -> Facts:
    async with runtime.platform_engine.begin() as conn:
        existing = (
            await conn.execute(
                select(deletion_certificates.c.sha256).where(
                    deletion_certificates.c.account_id == doomed.account_id
                )
            )
        ).first()
        if existing is not None:
            return {"certificateSha256": existing.sha256}
        stages = await _stage_rows(conn, doomed.account_id)
        recorded = {row.stage: dict(row.facts) for row in stages}
        recorded.get("begin", {}).pop("owners", None)
        now = runtime.clock.now()
        body = {
            "kind": "audora.deletion-certificate/1",
            "tenant": str(doomed.account_id),
            "schema": str(doomed.schema),
            "bucket": doomed.bucket,
            "closedAt": _iso(doomed.closed_at),
            "purgeAfter": _iso(doomed.purge_after),
            "issuedAt": _iso(now),
            "stages": [
                {
                    "stage": row.stage,
                    "startedAt": _iso(row.started_at),
                    "finishedAt": _iso(row.finished_at),
                }
                for row in stages
                if row.finished_at is not None
            ],
            "deleted": {
                "keys": recorded.get("destroy_keys", {}),
                "objects": recorded.get("delete_objects", {}),
                "bucketIdentity": recorded.get("delete_bucket_identity", {}),
                "database": recorded.get("drop_schema", {}),
                "access": recorded.get("revoke_sessions", {}),
                "users": recorded.get("delete_users", {}),
            },
        }
        digest = hashlib.sha256(canonical(body)).hexdigest()
        await conn.execute(
            pg_insert(deletion_certificates)
            .values(account_id=doomed.account_id, issued_at=now, body=body, sha256=digest)
            .on_conflict_do_nothing(index_elements=["account_id"])
        )
    return {"certificateSha256": digest}


async def _mail(runtime: Runtime, doomed: Doomed, facts: Facts) -> Facts:
    async with runtime.platform_engine.begin() as conn:
        cert = (
            await conn.execute(
                select(deletion_certificates).where(
                    deletion_certificates.c.account_id == doomed.account_id
                )
            )
        ).one()
        begun = (
            await conn.execute(
                select(purges.c.facts).where(
                    purges.c.account_id == doomed.account_id, purges.c.stage == "begin"
                )
            )
        ).scalar_one()
        owners = tuple(begun.get("owners", []))
        if cert.mailed_at is None and owners:
            await runtime.mail.send(
                Mail(
                    owners,
                    CERTIFICATE_SUBJECT,
                    "Your Audora account's grace period ended and all of its data has been "
                    "permanently deleted: its encryption keys were destroyed, then its "
                    "storage, database schema and users. This is the deletion certificate "
                    "Audora keeps (it holds no content of yours).\n\n"
                    f"SHA-256 of the certificate: {cert.sha256}\n\n"
                    + json.dumps(cert.body, indent=2, sort_keys=True)
                    + "\n",
                    kind=MailKind.TRANSACTIONAL,
                )
            )
        await conn.execute(
            update(deletion_certificates)
            .where(deletion_certificates.c.account_id == doomed.account_id)
            .values(mailed_at=runtime.clock.now())
        )
        # The owners' addresses were kept only to send this.
        await conn.execute(
            update(purges)
            .where(purges.c.account_id == doomed.account_id, purges.c.stage == "begin")
            .values(facts={"owners": len(owners)})
        )
    return {"mailedTo": len(owners)}


STAGES: tuple[tuple[str, Stage], ...] = (
    ("begin", _begin),
    ("revoke_sessions", _revoke_sessions),
    ("destroy_keys", _destroy_keys),
    ("delete_objects", _delete_objects),
    ("delete_bucket_identity", _delete_bucket_identity),
    ("drop_schema", _drop_schema),
    ("delete_users", _delete_users),
    ("mark_purged", _mark_purged),
    ("certificate", _certificate),
    ("mail", _mail),
)


async def _doomed(runtime: Runtime, account_id: uuid.UUID) -> Doomed | None:
    async with runtime.platform_engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    accounts.c.status,
                    accounts.c.bucket,
                    accounts.c.closed_at,
                    accounts.c.purge_after,
                ).where(accounts.c.id == account_id)
            )
        ).first()
    if row is None:
        return None
    return Doomed(
        account_id,
        tenant_schema(account_id),
        row.bucket,
        row.status,
        row.closed_at,
        row.purge_after,
    )


async def _finished(runtime: Runtime, account_id: uuid.UUID) -> dict[str, Any]:
    async with runtime.platform_engine.connect() as conn:
        return {row.stage: row for row in await _stage_rows(conn, account_id)}


def _refusal(doomed: Doomed, done: dict[str, Any], now: datetime, *, early: bool) -> str | None:
    """Why this account may not be purged now, or None."""
    if "mail" in done and done["mail"].finished_at is not None:
        return f"account {doomed.account_id} was already purged; its certificate stands"
    if done:
        return None  # a purge under way: it resumes, whatever the status says now
    if doomed.status not in IN_GRACE:
        return (
            f"account {doomed.account_id} is {doomed.status}: only a CLOSED or LAPSED "
            "account is purged"
        )
    if not early and (doomed.purge_after is None or now < doomed.purge_after):
        return (
            f"account {doomed.account_id} is in its grace period until "
            f"{_iso(doomed.purge_after)}; it is purged after that"
        )
    return None


async def purge_account(
    runtime: Runtime, account_id: uuid.UUID, *, before_grace_ends: bool = False
) -> PurgeOutcome:
    """Purge the account, or finish an interrupted purge of it.

    CONFLICT for an account that is not closed, still in its grace, or already purged;
    NOT_FOUND for no such account. `before_grace_ends` (the CLI's `--now-i-am-sure`)
    skips the wait for the grace to end, in dev and test only."""
    if before_grace_ends and runtime.settings.env not in EARLY_PURGE_ENVS:
        raise AppError(
            "purging before the grace period ends is refused in production",
            code=ErrorCode.FORBIDDEN,
        )
    doomed = await _doomed(runtime, account_id)
    if doomed is None:
        raise AppError("account not found", code=ErrorCode.NOT_FOUND)
    # One purge of an account at a time: the cron and an operator may both try.
    async with runtime.platform_provisioner.connect() as lock_conn:
        locked = (
            await lock_conn.execute(
                text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": f"purge:{account_id}"}
            )
        ).scalar_one()
        await lock_conn.commit()
        if not locked:
            raise AppError(
                f"account {account_id} is being purged by another process",
                code=ErrorCode.CONFLICT,
            )
        try:
            return await _run_stages(runtime, doomed, early=before_grace_ends)
        finally:
            await lock_conn.execute(
                text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": f"purge:{account_id}"}
            )
            await lock_conn.commit()


async def _run_stages(runtime: Runtime, doomed: Doomed, *, early: bool) -> PurgeOutcome:
    done = await _finished(runtime, doomed.account_id)
    refusal = _refusal(doomed, done, runtime.clock.now(), early=early)
    if refusal is not None:
        log.warning("purge refused: %s", refusal)
        raise AppError(refusal, code=ErrorCode.CONFLICT)
    resumed = next(
        (name for name, _ in STAGES if name in done and done[name].finished_at is None), None
    )
    if resumed is not None:
        log.warning("resuming the purge of %s at stage %s", doomed.account_id, resumed)
    for name, stage in STAGES:
        row = done.get(name)
        if row is not None and row.finished_at is not None:
            continue
        async with runtime.platform_engine.begin() as conn:
            await conn.execute(
                pg_insert(purges)
                .values(
                    account_id=doomed.account_id,
                    stage=name,
                    started_at=runtime.clock.now(),
                )
                .on_conflict_do_nothing(index_elements=["account_id", "stage"])
            )
        previous = dict(row.facts) if row is not None else {}
        facts = await stage(runtime, doomed, previous)
        async with runtime.platform_engine.begin() as conn:
            await conn.execute(
                update(purges)
                .where(purges.c.account_id == doomed.account_id, purges.c.stage == name)
                .values(finished_at=runtime.clock.now(), facts=facts)
            )
        log.info("purge of %s: %s done", doomed.account_id, name)
    async with runtime.platform_engine.connect() as conn:
        body = (
            await conn.execute(
                select(deletion_certificates.c.body).where(
                    deletion_certificates.c.account_id == doomed.account_id
                )
            )
        ).scalar_one()
    return PurgeOutcome(doomed.account_id, resumed, dict(body))


async def due_for_purge(runtime: Runtime) -> list[uuid.UUID]:
    """Accounts whose grace has ended, and purges left unfinished."""
    now = runtime.clock.now()
    async with runtime.platform_engine.connect() as conn:
        due = (
            await conn.execute(
                select(accounts.c.id).where(
                    accounts.c.status.in_(sorted(IN_GRACE)), accounts.c.purge_after <= now
                )
            )
        ).scalars()
        unfinished = (
            await conn.execute(
                select(purges.c.account_id)
                .group_by(purges.c.account_id)
                .having(
                    func.count(purges.c.finished_at) < len(STAGES),
                )
            )
        ).scalars()
        return list(dict.fromkeys([*due, *unfinished]))


async def purge_due_accounts(runtime: Runtime) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Purge every account past its grace and finish interrupted purges: (purged, failed).
    One account's failure does not stop the others; the next run retries it."""
    purged: list[uuid.UUID] = []
    failed: list[uuid.UUID] = []
    for account_id in await due_for_purge(runtime):
        try:
            await purge_account(runtime, account_id)
            purged.append(account_id)
        except Exception:
            log.exception("the purge of %s failed; the next run resumes it", account_id)
            failed.append(account_id)
    return purged, failed
