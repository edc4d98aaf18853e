from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from audora.platform import ids
from audora.schema.context import RequestContext
from audora.schema.identity.types import User
from audora.tenants.calls.content import DocumentKind, DocumentRecord, VersionSource
from audora.tenants.documents import service
from audora.tenants.documents.service import VersionInfo

strawberry.enum(VersionSource)


@strawberry.type(description="One version of a document: generated, or a person's edit.")
class DocumentVersion:
    version: int
    source: VersionSource
    created_at: datetime
    _author_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="Who edited; null for a generated version or a removed member.")
    async def author(self, info: Info[RequestContext, None]) -> User | None:
        if self._author_id is None:
            return None
        principal = await info.context.principal()
        row = await info.context.members_loader(principal).load(self._author_id)
        return User.from_row(row) if row is not None else None

    @classmethod
    def from_info(cls, found: VersionInfo) -> DocumentVersion:
        return cls(
            version=found.version,
            source=found.source,
            created_at=found.created_at,
            _author_id=found.author_id,
        )


@strawberry.type(
    description="A generated document. Without financials:read, budget sections read as "
    "a placeholder and `structured` has no budget keys."
)
class Document:
    id: strawberry.ID
    call_id: strawberry.ID
    kind: DocumentKind
    title: str
    markdown: str
    structured: JSON | None
    version: int
    updated_at: datetime
    _id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="Every version, newest first (the current one included).")
    async def versions(self, info: Info[RequestContext, None]) -> list[DocumentVersion]:
        found = await service.versions_of(await info.context.tenant_uow(), self._id)
        return [DocumentVersion.from_info(v) for v in found]

    @classmethod
    def from_record(cls, record: DocumentRecord) -> Document:
        """From a record already shaped for its reader (`service.as_seen_by`)."""
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.DOCUMENT, record.id)),
            call_id=strawberry.ID(ids.encode(ids.Kind.CALL, record.call_id)),
            kind=record.kind,
            title=record.title,
            markdown=record.markdown,
            structured=None if record.structured is None else JSON(record.structured),
            version=record.version,
            updated_at=record.updated_at,
            _id=record.id,
        )
