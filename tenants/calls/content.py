"""What a call produced, sealed at rest: its transcript (text and timed segments) under
the tenant's "transcripts" data key, its documents under the "documents" key. Each value
is bound to its row and column, so nothing opens anywhere but where it was written."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert

from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.errors import AppError, ErrorCode
from audora.platform.keys.service import KeyService
from audora.tenants.calls import repository
from audora.tenants.calls.tables import documents, transcripts
from audora.tenants.clients.repository import Scope
from audora.tenants.keys.data_keys import FieldSealer
from audora.tenants.keys.sealed_columns import sealed_object_id

TRANSCRIPTS = "transcripts"
DOCUMENTS = "documents"


class DocumentKind(StrEnum):
    PRD = "PRD"
    TASK_LIST = "TASK_LIST"
    SOW = "SOW"
    CLIENT_BRIEF = "CLIENT_BRIEF"


@dataclass(frozen=True)
class Segment:
    start_seconds: float
    end_seconds: float
    speaker: str | None
    text: str


@dataclass(frozen=True)
class Transcript:
    text: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class DocumentRecord:
    id: uuid.UUID
    call_id: uuid.UUID
    kind: DocumentKind
    title: str
    version: int
    markdown: str
    structured: dict[str, Any] | None
    updated_at: datetime


async def store_transcript(
    uow: TenantUnitOfWork,
    keys: KeyService,
    tenant_id: uuid.UUID,
    call_id: uuid.UUID,
    transcript: Transcript,
) -> uuid.UUID:
    """Write the call's transcript, replacing an earlier one (a retried job)."""
    sealer = FieldSealer(uow, keys, tenant_id, TRANSCRIPTS)
    existing = await repository.transcript_of(uow, call_id)
    row_id = existing["id"] if existing is not None else uuid.uuid4()
    segments = json.dumps([asdict(s) for s in transcript.segments], ensure_ascii=False)
    values = {
        column: await sealer.seal(sealed_object_id("transcripts", row_id, column), value)
        for column, value in (("text", transcript.text), ("segments", segments))
    }
    await uow.execute(
        pg_insert(transcripts)
        .values(id=row_id, call_id=call_id, **values)
        .on_conflict_do_update(index_elements=["call_id"], set_=values)
    )
    return row_id


async def read_transcript(
    uow: TenantUnitOfWork, keys: KeyService, tenant_id: uuid.UUID, call_id: uuid.UUID
) -> Transcript | None:
    row = await repository.transcript_of(uow, call_id)
    if row is None:
        return None
    sealer = FieldSealer(uow, keys, tenant_id, TRANSCRIPTS)
    text = await sealer.open(sealed_object_id("transcripts", row["id"], "text"), row["text"])
    raw = await sealer.open(sealed_object_id("transcripts", row["id"], "segments"), row["segments"])
    segments = tuple(Segment(**item) for item in json.loads(raw or "[]"))
    return Transcript(text or "", segments)


class VersionSource(StrEnum):
    GENERATED = "GENERATED"
    EDITED = "EDITED"


@dataclass(frozen=True)
class Authorship:
    """Who wrote a version: a generation round (no author) or a person's edit."""

    source: VersionSource = VersionSource.GENERATED
    author_id: uuid.UUID | None = None


async def store_document(
    uow: TenantUnitOfWork,
    keys: KeyService,
    tenant_id: uuid.UUID,
    call_id: uuid.UUID,
    kind: DocumentKind,
    title: str,
    markdown: str,
    structured: dict[str, Any] | None = None,
    *,
    by: Authorship = Authorship(),
    at: datetime | None = None,
    expected_version: int | None = None,
) -> uuid.UUID:
    """Write a call's document of `kind` as its next version. Every version, this one
    included, is also kept in `document_versions`, so no write loses the one before.
    With `expected_version`, a document that has moved on since is a CONFLICT."""
    existing = await repository.document_of_kind(uow, call_id, kind.value, for_update=True)
    current = None if existing is None else int(existing["version"])
    if expected_version is not None and current != expected_version:
        raise AppError(
            f"the document is at version {current}, not {expected_version}",
            code=ErrorCode.CONFLICT,
        )
    sealer = FieldSealer(uow, keys, tenant_id, DOCUMENTS)
    if existing is not None:
        await _keep_unversioned(uow, sealer, existing)
    row_id = existing["id"] if existing is not None else uuid.uuid4()
    version = 1 if current is None else current + 1
    serialized = None if structured is None else json.dumps(structured, ensure_ascii=False)
    values = {
        "title": title,
        "markdown": await sealer.seal(sealed_object_id("documents", row_id, "markdown"), markdown),
        "structured": await sealer.seal(
            sealed_object_id("documents", row_id, "structured"), serialized
        ),
    }
    written_at = at if at is not None else func.now()
    await uow.execute(
        pg_insert(documents)
        .values(id=row_id, call_id=call_id, kind=kind.value, version=version, **values)
        .on_conflict_do_update(
            index_elements=["call_id", "kind"],
            set_={**values, "version": version, "updated_at": written_at},
        )
    )
    await _add_version(uow, sealer, row_id, version, title, markdown, serialized, by, written_at)
    return row_id


async def _add_version(
    uow: TenantUnitOfWork,
    sealer: FieldSealer,
    document_id: uuid.UUID,
    version: int,
    title: str,
    markdown: str,
    structured: str | None,
    by: Authorship,
    at: Any,
) -> None:
    version_id = uuid.uuid4()
    await repository.add_document_version(
        uow,
        id=version_id,
        document_id=document_id,
        version=version,
        title=title,
        markdown=await sealer.seal(
            sealed_object_id("document_versions", version_id, "markdown"), markdown
        ),
        structured=await sealer.seal(
            sealed_object_id("document_versions", version_id, "structured"), structured
        ),
        source=by.source.value,
        author_id=by.author_id,
        created_at=at,
    )


async def _keep_unversioned(uow: TenantUnitOfWork, sealer: FieldSealer, row: Any) -> None:
    """A document written before versions were kept has no history row for its current
    version: copy it there (re-sealed: a sealed value opens only where it was written)
    before it is replaced."""
    if await repository.document_version(uow, row["id"], row["version"]) is not None:
        return
    markdown = await sealer.open(
        sealed_object_id("documents", row["id"], "markdown"), row["markdown"]
    )
    structured = await sealer.open(
        sealed_object_id("documents", row["id"], "structured"), row["structured"]
    )
    await _add_version(
        uow,
        sealer,
        row["id"],
        row["version"],
        row["title"],
        markdown or "",
        structured,
        Authorship(),
        row["updated_at"],
    )


async def _opened(sealer: FieldSealer, table: str, row: Any) -> tuple[str, dict[str, Any] | None]:
    markdown = await sealer.open(sealed_object_id(table, row["id"], "markdown"), row["markdown"])
    structured = await sealer.open(
        sealed_object_id(table, row["id"], "structured"), row["structured"]
    )
    return markdown or "", None if structured is None else json.loads(structured)


async def _record(sealer: FieldSealer, row: Any) -> DocumentRecord:
    markdown, structured = await _opened(sealer, "documents", row)
    return DocumentRecord(
        id=row["id"],
        call_id=row["call_id"],
        kind=DocumentKind(row["kind"]),
        title=row["title"],
        version=row["version"],
        markdown=markdown,
        structured=structured,
        updated_at=row["updated_at"],
    )


async def read_documents(
    uow: TenantUnitOfWork, keys: KeyService, tenant_id: uuid.UUID, call_id: uuid.UUID
) -> list[DocumentRecord]:
    sealer = FieldSealer(uow, keys, tenant_id, DOCUMENTS)
    return [await _record(sealer, row) for row in await repository.documents_of(uow, call_id)]


async def read_document(
    uow: TenantUnitOfWork,
    keys: KeyService,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    scope: Scope,
) -> DocumentRecord | None:
    """One document whose call the seat sees, or None."""
    row = await repository.document_in_scope(uow, document_id, scope)
    if row is None:
        return None
    return await _record(FieldSealer(uow, keys, tenant_id, DOCUMENTS), row)


async def read_version(
    uow: TenantUnitOfWork,
    keys: KeyService,
    tenant_id: uuid.UUID,
    document: DocumentRecord,
    version: int,
) -> DocumentRecord | None:
    """`document` as it was at `version`, or None if it never had that version."""
    row = await repository.document_version(uow, document.id, version)
    if row is None:
        return None
    markdown, structured = await _opened(
        FieldSealer(uow, keys, tenant_id, DOCUMENTS), "document_versions", row
    )
    return DocumentRecord(
        id=document.id,
        call_id=document.call_id,
        kind=document.kind,
        title=row["title"],
        version=row["version"],
        markdown=markdown,
        structured=structured,
        updated_at=row["created_at"],
    )
