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
from audora.platform.keys.service import KeyService
from audora.tenants.calls import repository
from audora.tenants.calls.tables import documents, transcripts
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


async def store_document(
    uow: TenantUnitOfWork,
    keys: KeyService,
    tenant_id: uuid.UUID,
    call_id: uuid.UUID,
    kind: DocumentKind,
    title: str,
    markdown: str,
    structured: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Write a call's document of `kind`; a second write is the next version."""
    existing = {row["kind"]: row for row in await repository.documents_of(uow, call_id)}
    row_id = existing[kind.value]["id"] if kind.value in existing else uuid.uuid4()
    sealer = FieldSealer(uow, keys, tenant_id, DOCUMENTS)
    values = {
        "title": title,
        "markdown": await sealer.seal(sealed_object_id("documents", row_id, "markdown"), markdown),
        "structured": await sealer.seal(
            sealed_object_id("documents", row_id, "structured"),
            None if structured is None else json.dumps(structured, ensure_ascii=False),
        ),
    }
    await uow.execute(
        pg_insert(documents)
        .values(id=row_id, call_id=call_id, kind=kind.value, **values)
        .on_conflict_do_update(
            index_elements=["call_id", "kind"],
            set_={**values, "version": documents.c.version + 1, "updated_at": func.now()},
        )
    )
    return row_id


async def read_documents(
    uow: TenantUnitOfWork, keys: KeyService, tenant_id: uuid.UUID, call_id: uuid.UUID
) -> list[DocumentRecord]:
    sealer = FieldSealer(uow, keys, tenant_id, DOCUMENTS)
    out: list[DocumentRecord] = []
    for row in await repository.documents_of(uow, call_id):
        markdown = await sealer.open(
            sealed_object_id("documents", row["id"], "markdown"), row["markdown"]
        )
        structured = await sealer.open(
            sealed_object_id("documents", row["id"], "structured"), row["structured"]
        )
        out.append(
            DocumentRecord(
                id=row["id"],
                call_id=call_id,
                kind=DocumentKind(row["kind"]),
                title=row["title"],
                version=row["version"],
                markdown=markdown or "",
                structured=None if structured is None else json.loads(structured),
                updated_at=row["updated_at"],
            )
        )
    return out
