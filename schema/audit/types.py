from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from audora.platform import ids
from audora.schema.pagination import PageInfo, encode_cursor
from audora.tenants.audit.log import ChainCheck
from audora.tenants.audit.service import AuditEventRecord, AuditPage

AUDIT_CURSOR = "audit"


@strawberry.type(description="One event of the account's audit log: append-only, hash-chained.")
class AuditEvent:
    id: strawberry.ID
    at: datetime
    actor: str = strawberry.field(
        description="Who acted: user:<uuid>, staff:<uuid> or system:<job>."
    )
    action: str = strawberry.field(description="What happened, e.g. login.failed.")
    target: str | None = strawberry.field(description="What it happened to, e.g. user:<uuid>.")
    ip: str | None
    details: JSON = strawberry.field(description="The event's particulars; never a secret.")
    hash: str = strawberry.field(
        description="SHA-256 (hex) over the previous event's hash and this event's "
        "canonical JSON: the link verifyAuditChain checks."
    )

    @classmethod
    def from_record(cls, record: AuditEventRecord) -> AuditEvent:
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.AUDIT_EVENT, record.id)),
            at=record.at,
            actor=record.actor,
            action=record.action,
            target=record.target,
            ip=record.ip,
            details=JSON(record.details),
            hash=record.hash.hex(),
        )


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type(description="A page of the audit log, newest first.")
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: AuditPage) -> AuditEventConnection:
        edges = [
            AuditEventEdge(
                cursor=encode_cursor(AUDIT_CURSOR, event.seq), node=AuditEvent.from_record(event)
            )
            for event in page.events
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_more,
                has_previous_page=False,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


@strawberry.type(description="The audit log's hash chain, recomputed from its first event.")
class AuditChainCheck:
    valid: bool
    events: int = strawberry.field(description="Events that checked out, from the first on.")
    first_invalid_event_id: strawberry.ID | None = strawberry.field(
        description="The first event that is altered, missing its predecessor or out of "
        "order; null when the chain is valid."
    )

    @classmethod
    def from_check(cls, check: ChainCheck) -> AuditChainCheck:
        bad = check.first_invalid_event_id
        return cls(
            valid=check.valid,
            events=check.events,
            first_invalid_event_id=(
                strawberry.ID(ids.encode(ids.Kind.AUDIT_EVENT, bad)) if bad is not None else None
            ),
        )
