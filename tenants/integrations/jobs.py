"""`push_task_list_job`: a confirmed push sent to its destination.

arq delivers at least once, so the job is idempotent. It acts only on a push that is
CONFIRMED (or SENDING: a worker died mid-send); each item's external id is saved the
moment the destination made it, so a retry, like a later push of the same task list,
updates what exists and creates only what does not. The job sends exactly the version
of the document the person confirmed; if the document changed since, it fails and says
so rather than send what nobody saw.

Timeouts, 429 and 5xx are retried with a growing delay, or after the destination's
Retry-After, until the tries are used up; any other refusal (401, 404, a destination
the SSRF guard refuses, a certificate that does not verify) fails at once. Either way
the push ends FAILED with a reason in the platform's words, and the audit log says so.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import httpx
from arq.worker import Retry
from sqlalchemy import RowMapping

from audora.platform.db.tenant_binding import TenantRef, TenantUnitOfWork, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.http.destinations import DestinationPolicy, guarded_client
from audora.platform.jobs.queue import enqueue
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append
from audora.tenants.integrations import repository
from audora.tenants.integrations.delivery import PushRejected, PushRetryable, Sender
from audora.tenants.integrations.linear import LinearSender
from audora.tenants.integrations.models import (
    Integration,
    IntegrationKind,
    NotATaskList,
    PushPlan,
    PushStatus,
)
from audora.tenants.integrations.notion import NotionSender
from audora.tenants.integrations.service import INTEGRATIONS, open_integration, read_task_items
from audora.tenants.integrations.webhook import WebhookSender
from audora.tenants.keys.data_keys import FieldSealer
from audora.tenants.keys.sealed_columns import sealed_object_id

log = logging.getLogger(__name__)

JOB = "push_task_list_job"
MAX_TRIES = 5
# Try n waits n times this long before the next, unless the destination said how long.
RETRY_BACKOFF_SECONDS = 30
JOB_TIMEOUT_SECONDS = 600
ACTOR = "system:push"
ACTIVE_STATUSES = (PushStatus.CONFIRMED.value, PushStatus.SENDING.value)


def push_job_id(push_id: uuid.UUID) -> str:
    """One queued job per push: confirming twice never sends twice at once."""
    return f"push:{push_id}"


async def queue_push(runtime: Runtime, tenant_id: uuid.UUID, push_id: uuid.UUID) -> None:
    """Queue the push's job, after the confirmation committed. If Redis refuses, the
    push stays CONFIRMED and confirming it again queues it again."""
    try:
        await enqueue(
            runtime.settings.redis_url,
            JOB,
            str(tenant_id),
            str(push_id),
            job_id=push_job_id(push_id),
        )
    except Exception:
        log.exception("could not queue push %s", push_id)


def _link_object(integration_id: uuid.UUID, document_id: uuid.UUID) -> str:
    row_id = repository.link_id(integration_id, document_id)
    return sealed_object_id("integration_links", row_id, "external_ids")


async def _links(
    uow: TenantUnitOfWork, runtime: Runtime, tenant: uuid.UUID, push: RowMapping
) -> dict[str, str]:
    row = await repository.link_of(uow, push["integration_id"], push["document_id"])
    if row is None:
        return {}
    sealer = FieldSealer(uow, runtime.keys, tenant, INTEGRATIONS)
    raw = await sealer.open(
        _link_object(push["integration_id"], push["document_id"]), row["external_ids"]
    )
    found = json.loads(raw or "{}")
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def _sender(
    runtime: Runtime, integration: Integration, credential: str, client: httpx.AsyncClient
) -> Sender:
    config, settings = integration.config, runtime.settings
    if integration.kind is IntegrationKind.LINEAR:
        endpoint = config.url or settings.linear_api_url
        return LinearSender(client, endpoint, credential, config.team_id or "")
    if integration.kind is IntegrationKind.NOTION:
        base = config.url or settings.notion_api_url
        return NotionSender(client, base, credential, config.database_id or "")
    return WebhookSender(client, config.url or "", credential, runtime.clock.now())


Loaded = tuple[PushPlan, Integration, str, dict[str, str]]


async def _load(
    uow: TenantUnitOfWork, runtime: Runtime, tenant: uuid.UUID, push: uuid.UUID
) -> Loaded | str | None:
    """What the push sends, with where and how; a reason it cannot be sent; or None
    when there is nothing to do (done already, or not confirmed)."""
    row = await repository.get_push(uow, push, for_update=True)
    if row is None or row["status"] not in ACTIVE_STATUSES:
        return None
    found = await repository.get_integration(uow, row["integration_id"])
    head = await repository.document_head(uow, row["document_id"])
    if found is None or head is None:
        return "the integration or the task list is gone"
    if head["version"] != row["document_version"]:
        return "the task list changed after the push was confirmed: prepare it again"
    integration, credential = await open_integration(uow, runtime.keys, tenant, found)
    try:
        items = await read_task_items(uow, runtime.keys, tenant, head)
    except NotATaskList:
        return "the task list has no items"
    plan = PushPlan(push, row["integration_id"], row["document_id"], row["document_version"], items)
    return plan, integration, credential, await _links(uow, runtime, tenant, row)


async def push_task_list_job(ctx: dict[str, Any], tenant_id: str, push_id: str) -> str:
    """Send one confirmed push. Returns what it did, for arq's result log."""
    runtime: Runtime = ctx["runtime"]
    policy: DestinationPolicy = ctx.get("destination_policy") or DestinationPolicy.from_settings(
        runtime.settings
    )
    tenant, push = uuid.UUID(tenant_id), uuid.UUID(push_id)
    ref = TenantRef(tenant_schema(tenant))
    async with tenant_transaction(runtime.tenant_engines, ref) as uow:
        loaded = await _load(uow, runtime, tenant, push)
        if isinstance(loaded, tuple):
            await repository.update_push(uow, push, status=PushStatus.SENDING.value)
            await repository.count_attempt(uow, push)
            await uow.commit()
    if loaded is None:
        return "nothing to do"
    if isinstance(loaded, str):
        await _finish(runtime, ref, push, PushStatus.FAILED, loaded)
        return f"failed: {loaded}"
    plan, integration, credential, links = loaded

    async def remember(item_id: str, external_id: str) -> None:
        links[item_id] = external_id
        async with tenant_transaction(runtime.tenant_engines, ref) as uow:
            sealer = FieldSealer(uow, runtime.keys, tenant, INTEGRATIONS)
            sealed = await sealer.seal(
                _link_object(plan.integration_id, plan.document_id), json.dumps(links)
            )
            assert sealed is not None  # noqa: S101  (a str in, bytes out)
            await repository.save_link(
                uow, plan.integration_id, plan.document_id, sealed, runtime.clock.now()
            )
            await uow.commit()

    already = len([i for i in plan.items if i.id in links])
    try:
        async with guarded_client(policy) as client:
            created = await _sender(runtime, integration, credential, client).send(
                plan, dict(links), remember
            )
    except PushRejected as refused:
        await _finish(runtime, ref, push, PushStatus.FAILED, refused.reason)
        return f"failed: {refused.reason}"
    except PushRetryable as failed:
        job_try: int = ctx.get("job_try", 1)
        if job_try < MAX_TRIES:
            log.warning("push %s: %s (try %s); retrying", push, failed.reason, job_try)
            await _note(runtime, ref, push, failed.reason)
            backoff = ctx.get("retry_backoff_seconds", RETRY_BACKOFF_SECONDS)
            defer = failed.retry_after if failed.retry_after is not None else job_try * backoff
            raise Retry(defer=defer) from None
        reason = f"{failed.reason}; gave up after {job_try} tries"
        await _finish(runtime, ref, push, PushStatus.FAILED, reason)
        return f"failed: {reason}"
    await _finish(runtime, ref, push, PushStatus.DONE, None, created=created, updated=already)
    return f"done: {created} created, {already} updated"


async def _note(runtime: Runtime, ref: TenantRef, push: uuid.UUID, reason: str) -> None:
    async with tenant_transaction(runtime.tenant_engines, ref) as uow:
        await repository.update_push(uow, push, last_error=reason)
        await uow.commit()


async def _finish(
    runtime: Runtime,
    ref: TenantRef,
    push: uuid.UUID,
    status: PushStatus,
    reason: str | None,
    **counts: int,
) -> None:
    """End the push DONE or FAILED (with `reason`), and say so in the audit log."""
    if status is PushStatus.FAILED:
        log.error("push %s FAILED: %s", push, reason)
    now = runtime.clock.now()
    async with tenant_transaction(runtime.tenant_engines, ref) as uow:
        row = await repository.get_push(uow, push, for_update=True)
        if row is None or row["status"] not in ACTIVE_STATUSES:
            return
        await repository.update_push(
            uow, push, status=status.value, last_error=reason, finished_at=now
        )
        details: dict[str, Any] = {"integration": str(row["integration_id"]), **counts}
        if reason is not None:
            details["reason"] = reason
        action = "push.done" if status is PushStatus.DONE else "push.failed"
        await append(uow, now, AuditEntry(ACTOR, action, f"push:{push}", details=details))
        await uow.commit()
