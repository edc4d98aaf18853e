"""The backup catalogue and the restore drills' record, in the platform schema.

Neither table holds customer content: a backup row names its object, its size and hash,
the per-backup data key wrapped by the tenant's KEK, and how many rows each table of
the dump held (table names only). Neither refers to `accounts` by foreign key: a purged
tenant's backups outlive its account row until they expire, and must still be found
and deleted then.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from audora.platform.db.metadata import platform_metadata

backups = Table(
    "backups",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    # backups/<tenant hex>/<timestamp>.dump.enc in the backup bucket.
    Column("object_key", Text, nullable=False, unique=True),
    Column("taken_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # RUNNING while the dump streams up; COMPLETE once stored; FAILED if it did not
    # finish (nothing stored); DELETED once expired and its object gone.
    Column("status", String(16), nullable=False),
    Column("size_bytes", BigInteger, nullable=True),
    # SHA-256 of the ciphertext as stored: a drill compares before restoring anything.
    Column("sha256", LargeBinary(32), nullable=True),
    # The backup's own data key, wrapped by the tenant's KEK in the key service: once
    # that KEK is destroyed, this backup can never be opened again.
    Column("wrapped_key", LargeBinary, nullable=False),
    # {"table": rows} as dumped, counted from the dump itself (same snapshot).
    Column("row_counts", JSONB, nullable=True),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    Index("ix_backups_account_id_taken_at", "account_id", "taken_at"),
)

restore_drills = Table(
    "restore_drills",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    # The backup restored; None when the tenant had no backup to restore.
    Column("backup_id", UUID(as_uuid=True), nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("ok", Boolean, nullable=False),
    # What was checked and what failed: counts, table names, error kinds; no content.
    Column("details", JSONB, nullable=False),
)
