"""SQL over integrations, pushes and links, inside a tenant unit of work. Sealing and
opening is the service's; these functions move bytes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.tenants.calls.tables import documents
from audora.tenants.integrations.tables import integration_links, integration_pushes, integrations

MAX_LIST = 200


async def add_integration(uow: TenantUnitOfWork, **values: Any) -> RowMapping:
    result = await uow.execute(insert(integrations).values(**values).returning(integrations))
    return result.mappings().one()


async def get_integration(uow: TenantUnitOfWork, integration_id: uuid.UUID) -> RowMapping | None:
    result = await uow.execute(select(integrations).where(integrations.c.id == integration_id))
    return result.mappings().first()


async def list_integrations(uow: TenantUnitOfWork) -> list[RowMapping]:
    result = await uow.execute(
        select(integrations).order_by(integrations.c.created_at, integrations.c.id).limit(MAX_LIST)
    )
    return list(result.mappings())


async def remove_integration(uow: TenantUnitOfWork, integration_id: uuid.UUID) -> bool:
    result = await uow.execute(
        delete(integrations).where(integrations.c.id == integration_id).returning(integrations.c.id)
    )
    return result.first() is not None


async def document_head(uow: TenantUnitOfWork, document_id: uuid.UUID) -> RowMapping | None:
    """A document's id, call, kind and version: no content."""
    result = await uow.execute(
        select(documents.c.id, documents.c.call_id, documents.c.kind, documents.c.version).where(
            documents.c.id == document_id
        )
    )
    return result.mappings().first()


async def add_push(uow: TenantUnitOfWork, **values: Any) -> RowMapping:
    result = await uow.execute(
        insert(integration_pushes).values(**values).returning(integration_pushes)
    )
    return result.mappings().one()


async def get_push(
    uow: TenantUnitOfWork, push_id: uuid.UUID, *, for_update: bool = False
) -> RowMapping | None:
    query = select(integration_pushes).where(integration_pushes.c.id == push_id)
    if for_update:
        query = query.with_for_update()
    return (await uow.execute(query)).mappings().first()


async def pushes_of(uow: TenantUnitOfWork, document_id: uuid.UUID) -> list[RowMapping]:
    result = await uow.execute(
        select(integration_pushes)
        .where(integration_pushes.c.document_id == document_id)
        .order_by(integration_pushes.c.prepared_at.desc(), integration_pushes.c.id)
        .limit(MAX_LIST)
    )
    return list(result.mappings())


async def update_push(uow: TenantUnitOfWork, push_id: uuid.UUID, **values: Any) -> None:
    await uow.execute(
        update(integration_pushes).where(integration_pushes.c.id == push_id).values(**values)
    )


async def count_attempt(uow: TenantUnitOfWork, push_id: uuid.UUID) -> None:
    await uow.execute(
        update(integration_pushes)
        .where(integration_pushes.c.id == push_id)
        .values(attempts=integration_pushes.c.attempts + 1)
    )


async def link_of(
    uow: TenantUnitOfWork, integration_id: uuid.UUID, document_id: uuid.UUID
) -> RowMapping | None:
    result = await uow.execute(
        select(integration_links).where(
            integration_links.c.integration_id == integration_id,
            integration_links.c.document_id == document_id,
        )
    )
    return result.mappings().first()


def link_id(integration_id: uuid.UUID, document_id: uuid.UUID) -> uuid.UUID:
    """One link row per integration and document, with an id known before it exists:
    its sealed map is bound to the id, so two first pushes racing cannot bind it to
    a row id that lost the race."""
    return uuid.uuid5(integration_id, str(document_id))


async def save_link(
    uow: TenantUnitOfWork,
    integration_id: uuid.UUID,
    document_id: uuid.UUID,
    external_ids: bytes,
    at: datetime,
) -> None:
    await uow.execute(
        pg_insert(integration_links)
        .values(
            id=link_id(integration_id, document_id),
            integration_id=integration_id,
            document_id=document_id,
            external_ids=external_ids,
            updated_at=at,
        )
        .on_conflict_do_update(
            index_elements=["integration_id", "document_id"],
            set_={"external_ids": external_ids, "updated_at": at},
        )
    )
