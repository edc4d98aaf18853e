"""A tenant's data keys, wrapped by its KEK: one row per purpose and version. Only the
wrapped form is stored; the key service alone can unwrap it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID

from audora.platform.db.inline_rows import INLINE_ROWS
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
    info=INLINE_ROWS,
)

# A data-key rotation's re-encryption pass: one row per purpose and target version, its
# cursor and counts committed with each batch, so a killed job resumes where it was.
reencryptions = Table(
    "reencryptions",
    tenant_metadata,
    Column("purpose", String(64), primary_key=True),
    Column("to_version", Integer, primary_key=True),
    # RUNNING or DONE.
    Column("status", String(16), nullable=False, server_default="RUNNING"),
    # "<table>:<last id>" of the last batch committed; NULL before the first.
    Column("cursor", Text, nullable=True),
    Column("rewritten", BigInteger, nullable=False, server_default="0"),
    Column("examined", BigInteger, nullable=False, server_default="0"),
    Column("total", BigInteger, nullable=False, server_default="0"),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    info=INLINE_ROWS,
)
