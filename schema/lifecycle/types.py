from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from audora.platform import ids
from audora.tenants.lifecycle.export import ExportRecord


@strawberry.enum
class DataExportStatus(Enum):
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"


@strawberry.type(
    description="An export of all the account's data: client profiles, calls, "
    "transcripts, documents (Markdown and JSON) and the audit log, as one ZIP."
)
class DataExport:
    id: strawberry.ID
    status: DataExportStatus
    requested_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None = strawberry.field(
        description="When the export is deleted (24 hours after it is built)."
    )
    size_bytes: int | None
    download_url: str | None = strawberry.field(
        description="A fresh, short-lived download link (AUDORA_EXPORT_LINK_MINUTES) when "
        "the export is READY and asked for by id; null otherwise. The link is also "
        "emailed to the owners when the export is ready."
    )

    @classmethod
    def from_record(cls, record: ExportRecord) -> DataExport:
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.DATA_EXPORT, record.id)),
            status=DataExportStatus(record.status),
            requested_at=record.requested_at,
            ready_at=record.ready_at,
            expires_at=record.expires_at,
            size_bytes=record.size_bytes,
            download_url=record.download_url,
        )
