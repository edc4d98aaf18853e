"""Integrations and pushes: connecting a destination, preparing a push of a task list
(a preview, nothing sent), and a person confirming it, after which the push job sends.

A destination URL is checked against the SSRF guard when it is saved (and again by the
guarded client at every connection). Credentials are sealed under the tenant's
"integrations" data key and never leave it again: what is shown is a masked hint. A
webhook's signing secret is made here and returned once, by `connect_integration`.

An integration belongs to the account; a push is as visible as its document, so a seat
scoped to some client profiles pushes and sees pushes only of their calls' documents.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from audora.platform.auth.principal import Principal
from audora.platform.auth.validation import clean_name
from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.errors import AppError, ErrorCode, bad_input, not_found
from audora.platform.http.destinations import DestinationPolicy
from audora.platform.keys.service import KeyService
from audora.tenants.audit.log import AuditEntry, append
from audora.tenants.calls import content
from audora.tenants.calls import repository as calls
from audora.tenants.calls.content import DocumentKind
from audora.tenants.integrations import repository
from audora.tenants.integrations.models import (
    Integration,
    IntegrationConfig,
    IntegrationKind,
    NotATaskList,
    PushRecord,
    PushStatus,
    TaskItem,
    task_items,
)
from audora.tenants.integrations.webhook import new_secret
from audora.tenants.keys.data_keys import FieldSealer
from audora.tenants.keys.sealed_columns import sealed_object_id

INTEGRATIONS = "integrations"
MAX_CREDENTIAL = 512
_EXTERNAL_ID = re.compile(r"\A[A-Za-z0-9_-]{1,100}\Z")


@dataclass(frozen=True)
class ConnectRequest:
    kind: IntegrationKind
    name: str
    url: str | None = None
    api_key: str | None = None
    team_id: str | None = None
    database_id: str | None = None


@dataclass(frozen=True)
class Connected:
    integration: Integration
    # The webhook's signing secret, shown this once; None for other kinds.
    signing_secret: str | None


def _actor(principal: Principal) -> str:
    return f"user:{principal.user_id}"


def _hint(credential: str) -> str:
    return f"…{credential[-4:]}" if len(credential) >= 12 else "…"


def _external_id(value: str | None, field: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise bad_input(f"a {what} is required", field=field)
    if not _EXTERNAL_ID.match(value):
        raise bad_input(f"{field} is not a valid {what}", field=field)
    return value


def _credential(value: str | None) -> str:
    value = (value or "").strip()
    if not value:
        raise bad_input("an API key is required", field="apiKey")
    if len(value) > MAX_CREDENTIAL or any(ord(c) < 33 or ord(c) > 126 for c in value):
        raise bad_input("apiKey is not a valid API key", field="apiKey")
    return value


async def _config(request: ConnectRequest, policy: DestinationPolicy) -> IntegrationConfig:
    url = None
    if request.url is not None and request.url.strip():
        url = await policy.vet_url(request.url)
    if request.kind is IntegrationKind.WEBHOOK:
        if url is None:
            raise bad_input("a webhook needs an https URL", field="url")
        return IntegrationConfig(url=url)
    if request.kind is IntegrationKind.LINEAR:
        return IntegrationConfig(url, team_id=_external_id(request.team_id, "teamId", "team id"))
    return IntegrationConfig(
        url, database_id=_external_id(request.database_id, "databaseId", "database id")
    )


def _sealed_id(row_id: uuid.UUID, column: str) -> str:
    return sealed_object_id("integrations", row_id, column)


async def connect_integration(
    uow: TenantUnitOfWork,
    keys: KeyService,
    principal: Principal,
    now: datetime,
    request: ConnectRequest,
    policy: DestinationPolicy,
) -> Connected:
    name = clean_name(request.name, field="name")
    config = await _config(request, policy)
    if request.kind is IntegrationKind.WEBHOOK:
        if request.api_key:
            raise bad_input("a webhook takes no API key: Audora makes its secret", field="apiKey")
        credential = new_secret()
        secret: str | None = credential
    else:
        credential, secret = _credential(request.api_key), None
    row_id = uuid.uuid4()
    sealer = FieldSealer(uow, keys, principal.account_id, INTEGRATIONS)
    row = await repository.add_integration(
        uow,
        id=row_id,
        kind=request.kind.value,
        name=name,
        config=await sealer.seal(_sealed_id(row_id, "config"), json.dumps(config.to_json())),
        credential=await sealer.seal(_sealed_id(row_id, "credential"), credential),
        credential_hint=_hint(credential) if secret is None else "whsec_…",
        created_by=principal.user_id,
        created_at=now,
    )
    await append(
        uow,
        now,
        AuditEntry(
            _actor(principal),
            "integration.connected",
            f"integration:{row_id}",
            details={"kind": request.kind.value},
        ),
    )
    return Connected(_integration(row, config), secret)


def _integration(row: RowMapping, config: IntegrationConfig) -> Integration:
    return Integration(
        id=row["id"],
        kind=IntegrationKind(row["kind"]),
        name=row["name"],
        config=config,
        credential_hint=row["credential_hint"],
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


async def open_integration(
    uow: TenantUnitOfWork, keys: KeyService, tenant_id: uuid.UUID, row: RowMapping
) -> tuple[Integration, str]:
    """The integration with its configuration, and its credential (for the job only)."""
    sealer = FieldSealer(uow, keys, tenant_id, INTEGRATIONS)
    raw = await sealer.open(_sealed_id(row["id"], "config"), row["config"])
    credential = await sealer.open(_sealed_id(row["id"], "credential"), row["credential"])
    config = IntegrationConfig.from_json(json.loads(raw or "{}"))
    return _integration(row, config), credential or ""


async def list_integrations(
    uow: TenantUnitOfWork, keys: KeyService, principal: Principal
) -> list[Integration]:
    rows = await repository.list_integrations(uow)
    return [(await open_integration(uow, keys, principal.account_id, r))[0] for r in rows]


async def remove_integration(
    uow: TenantUnitOfWork, principal: Principal, now: datetime, integration_id: uuid.UUID
) -> None:
    if not await repository.remove_integration(uow, integration_id):
        raise not_found("integration")
    await append(
        uow,
        now,
        AuditEntry(_actor(principal), "integration.removed", f"integration:{integration_id}"),
    )


async def visible_document(
    uow: TenantUnitOfWork, principal: Principal, document_id: uuid.UUID
) -> RowMapping:
    """The document's head, if the caller's seat sees its call; NOT_FOUND otherwise."""
    head = await repository.document_head(uow, document_id)
    if head is None or await calls.get(uow, head["call_id"], principal.client_profile_ids) is None:
        raise not_found("document")
    return head


async def read_task_items(
    uow: TenantUnitOfWork, keys: KeyService, tenant_id: uuid.UUID, head: RowMapping
) -> tuple[TaskItem, ...]:
    for document in await content.read_documents(uow, keys, tenant_id, head["call_id"]):
        if document.id == head["id"]:
            return task_items(document.structured)
    raise not_found("document")


def push_record(row: RowMapping) -> PushRecord:
    return PushRecord(
        id=row["id"],
        integration_id=row["integration_id"],
        document_id=row["document_id"],
        document_version=row["document_version"],
        item_count=row["item_count"],
        status=PushStatus(row["status"]),
        prepared_by=row["prepared_by"],
        prepared_at=row["prepared_at"],
        confirmed_by=row["confirmed_by"],
        confirmed_at=row["confirmed_at"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        finished_at=row["finished_at"],
    )


async def prepare_push(
    uow: TenantUnitOfWork,
    keys: KeyService,
    principal: Principal,
    now: datetime,
    document_id: uuid.UUID,
    integration_id: uuid.UUID,
) -> tuple[PushRecord, tuple[TaskItem, ...]]:
    """A push waiting for a person to confirm it, and the items it would send."""
    head = await visible_document(uow, principal, document_id)
    if await repository.get_integration(uow, integration_id) is None:
        raise not_found("integration")
    if head["kind"] != DocumentKind.TASK_LIST.value:
        raise bad_input("only a task list can be pushed", field="documentId")
    try:
        items = await read_task_items(uow, keys, principal.account_id, head)
    except NotATaskList as exc:
        raise bad_input(str(exc), field="documentId") from None
    row = await repository.add_push(
        uow,
        id=uuid.uuid4(),
        integration_id=integration_id,
        document_id=document_id,
        document_version=head["version"],
        item_count=len(items),
        status=PushStatus.PENDING_CONFIRMATION.value,
        prepared_by=principal.user_id,
        prepared_at=now,
    )
    return push_record(row), items


async def _visible_push(
    uow: TenantUnitOfWork, principal: Principal, push_id: uuid.UUID, *, for_update: bool = False
) -> tuple[RowMapping, RowMapping]:
    row = await repository.get_push(uow, push_id, for_update=for_update)
    if row is None:
        raise not_found("push")
    try:
        head = await visible_document(uow, principal, row["document_id"])
    except AppError:
        raise not_found("push") from None
    return row, head


async def confirm_push(
    uow: TenantUnitOfWork, principal: Principal, now: datetime, push_id: uuid.UUID
) -> PushRecord:
    """A person's go-ahead: the push is CONFIRMED and may be sent. Confirming one that
    is already CONFIRMED changes nothing (its job is queued again, under the same id)."""
    row, head = await _visible_push(uow, principal, push_id, for_update=True)
    status = PushStatus(row["status"])
    if status is PushStatus.CONFIRMED:
        return push_record(row)
    if status is not PushStatus.PENDING_CONFIRMATION:
        raise AppError(f"this push is already {status.value}", code=ErrorCode.CONFLICT)
    if head["version"] != row["document_version"]:
        raise AppError(
            "the task list changed since this push was prepared: prepare it again",
            code=ErrorCode.CONFLICT,
        )
    values: dict[str, Any] = {
        "status": PushStatus.CONFIRMED.value,
        "confirmed_by": principal.user_id,
        "confirmed_at": now,
    }
    await repository.update_push(uow, push_id, **values)
    confirmed = await repository.get_push(uow, push_id)
    assert confirmed is not None  # noqa: S101  (locked above)
    await append(
        uow,
        now,
        AuditEntry(
            _actor(principal),
            "push.confirmed",
            f"push:{push_id}",
            details={
                "integration": str(row["integration_id"]),
                "document": str(row["document_id"]),
                "version": row["document_version"],
                "items": row["item_count"],
            },
        ),
    )
    return push_record(confirmed)


async def get_push(uow: TenantUnitOfWork, principal: Principal, push_id: uuid.UUID) -> PushRecord:
    row, _ = await _visible_push(uow, principal, push_id)
    return push_record(row)


async def list_pushes(
    uow: TenantUnitOfWork, principal: Principal, document_id: uuid.UUID
) -> list[PushRecord]:
    await visible_document(uow, principal, document_id)
    return [push_record(r) for r in await repository.pushes_of(uow, document_id)]


async def preview(
    uow: TenantUnitOfWork, keys: KeyService, principal: Principal, push: PushRecord
) -> tuple[TaskItem, ...] | None:
    """The items the push sends, while the document is still at the push's version."""
    head = await visible_document(uow, principal, push.document_id)
    if head["version"] != push.document_version:
        return None
    try:
        return await read_task_items(uow, keys, principal.account_id, head)
    except NotATaskList:
        return None
