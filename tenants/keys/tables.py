"""A tenant's data keys, wrapped by its KEK: one row per purpose and version. Only the
wrapped form is stored; the key service alone can unwrap it."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, LargeBinary, String, Table, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID

from audora.platform.db.metadata import tenant_metadata

data_keys = Table(
    "data_keys",
    tenant_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("purpose", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("purpose", "version"),
)
