"""Documents as people use them: read (with budget figures hidden from seats without
financials:read), edited into a new version, regenerated as a new round of the call.

Edits by a seat without financials:read: such a seat sees each budget section as a
placeholder, so the text it sends back cannot carry those sections. Rather than guess
where they belong in an edited text (a merge that could put figures in the wrong place,
or lose them if the placeholder was moved or removed), an edit of a document that has
budget sections is refused (FORBIDDEN) to such a seat, with a message saying why. No
role has documents:write without financials:read today; the rule keeps a future one
from wiping what it cannot see.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from audora.platform.auth.permissions import Permission, allows
from audora.platform.auth.principal import Principal
from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.errors import AppError, ErrorCode, bad_input, forbidden, not_found
from audora.platform.keys.service import KeyService
from audora.tenants.audit.log import AuditEntry, append
from audora.tenants.calls import repository as calls
from audora.tenants.calls.content import (
    Authorship,
    DocumentKind,
    DocumentRecord,
    VersionSource,
    read_document,
    read_version,
    store_document,
)
from audora.tenants.calls.service import CallRecord, CallStatus
from audora.tenants.documents.redaction import (
    has_budget_sections,
    redact_markdown,
    redact_structured,
)

# UTF-8 bytes of an edited document. Below the GraphQL body limit (256 KiB by default),
# so a too-long text is answered as such rather than as an oversized request; the
# generators' documents are a few kilobytes.
MAX_MARKDOWN_BYTES = 200 * 1024


@dataclass(frozen=True)
class VersionInfo:
    version: int
    source: VersionSource
    author_id: uuid.UUID | None
    created_at: datetime


def sees_financials(principal: Principal) -> bool:
    return allows(principal.role, Permission.FINANCIALS_READ)


def as_seen_by(principal: Principal, record: DocumentRecord) -> DocumentRecord:
    """The document as `principal` may see it: budget sections and keys hidden from a
    seat without financials:read."""
    if sees_financials(principal):
        return record
    return replace(
        record,
        markdown=redact_markdown(record.markdown),
        structured=None if record.structured is None else redact_structured(record.structured),
    )


async def get_document(
    uow: TenantUnitOfWork, keys: KeyService, principal: Principal, document_id: uuid.UUID
) -> DocumentRecord:
    found = await read_document(
        uow, keys, principal.account_id, document_id, principal.client_profile_ids
    )
    if found is None:
        raise not_found("document")
    return as_seen_by(principal, found)


async def get_version(
    uow: TenantUnitOfWork,
    keys: KeyService,
    principal: Principal,
    document_id: uuid.UUID,
    version: int,
) -> DocumentRecord:
    document = await get_document(uow, keys, principal, document_id)
    found = await read_version(uow, keys, principal.account_id, document, version)
    if found is None:
        raise not_found("document version")
    return as_seen_by(principal, found)


async def versions_of(uow: TenantUnitOfWork, document_id: uuid.UUID) -> list[VersionInfo]:
    """The versions of a document the caller already reached (newest first)."""
    return [
        VersionInfo(
            row["version"], VersionSource(row["source"]), row["author_id"], row["created_at"]
        )
        for row in await calls.document_versions_of(uow, document_id)
    ]


def _writable(principal: Principal) -> None:
    if principal.account_status != "ACTIVE":
        raise forbidden("this account is read-only")


def _checked_markdown(markdown: str) -> str:
    if not markdown.strip():
        raise bad_input("the document cannot be empty", field="markdown")
    if len(markdown.encode()) > MAX_MARKDOWN_BYTES:
        raise bad_input(
            f"the document must be at most {MAX_MARKDOWN_BYTES} bytes", field="markdown"
        )
    return markdown


async def update_document(
    uow: TenantUnitOfWork,
    keys: KeyService,
    principal: Principal,
    now: datetime,
    document_id: uuid.UUID,
    markdown: str,
    *,
    expected_version: int | None = None,
    ip: str | None = None,
) -> DocumentRecord:
    """Replace the document's Markdown with a person's edit, as its next version. The
    structured JSON stays the generator's (it is not derived from the Markdown)."""
    text = _checked_markdown(markdown)
    if expected_version is not None and expected_version < 1:
        raise bad_input("expectedVersion must be 1 or more", field="expectedVersion")
    _writable(principal)
    current = await read_document(
        uow, keys, principal.account_id, document_id, principal.client_profile_ids
    )
    if current is None:
        raise not_found("document")
    if not sees_financials(principal) and has_budget_sections(current.markdown):
        raise forbidden(
            "this document has budget sections your role cannot see (financials:read); "
            "an edit from you would remove them"
        )
    await store_document(
        uow,
        keys,
        principal.account_id,
        current.call_id,
        current.kind,
        current.title,
        text,
        current.structured,
        by=Authorship(VersionSource.EDITED, principal.user_id),
        at=now,
        expected_version=current.version if expected_version is None else expected_version,
    )
    await append(
        uow,
        now,
        AuditEntry(
            actor=f"user:{principal.user_id}",
            action="document.edited",
            target=f"document:{document_id}",
            ip=ip,
            details={
                "call": str(current.call_id),
                "kind": current.kind.value,
                "version": current.version + 1,
            },
        ),
    )
    return await get_document(uow, keys, principal, document_id)


async def regenerate_documents(
    uow: TenantUnitOfWork,
    principal: Principal,
    now: datetime,
    call_id: uuid.UUID,
    kinds: Sequence[DocumentKind] | None,
    *,
    ip: str | None = None,
) -> tuple[CallRecord, uuid.UUID]:
    """Start a new generation round of a READY call, or of one that failed after its
    transcript was stored: the call goes back to GENERATING. Returns the call and the
    round's id; the caller queues the job once this is committed. Each document written
    is a new version; earlier ones, edits included, stay in its history."""
    if kinds is not None and not kinds:
        raise bad_input("name at least one kind, or leave kinds out for all", field="kinds")
    _writable(principal)
    row = await calls.get(uow, call_id, principal.client_profile_ids, for_update=True)
    if row is None:
        raise not_found("call")
    status = CallStatus(row["status"])
    has_transcript = await calls.has_transcript(uow, call_id)
    if not has_transcript or status not in (CallStatus.READY, CallStatus.FAILED):
        raise AppError(
            "documents can be regenerated once the call is READY, or FAILED after its "
            f"transcript; it is {status.value}"
            + ("" if has_transcript else " without a transcript"),
            code=ErrorCode.CONFLICT,
        )
    chosen = None if kinds is None else sorted({k.value for k in kinds})
    round_id = await calls.begin_generation(uow, call_id, now, kinds=chosen)
    await append(
        uow,
        now,
        AuditEntry(
            actor=f"user:{principal.user_id}",
            action="call.regeneration_requested",
            target=f"call:{call_id}",
            ip=ip,
            details={
                "kinds": chosen or sorted(k.value for k in DocumentKind),
                "round": str(round_id),
            },
        ),
    )
    updated = await calls.get(uow, call_id, None)
    if updated is None:  # locked above, in this transaction: cannot happen
        raise not_found("call")
    return CallRecord.from_row(updated), round_id
