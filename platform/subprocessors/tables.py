"""Announcements of new subprocessors (PROMISES S5), in the platform schema: which one,
for which effective date, when owners were emailed, how many were to be and how many
were. No addresses are kept: the recipients were the owners of live accounts then."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Index, Integer, String, Table
from sqlalchemy.dialects.postgresql import UUID

from audora.platform.db.metadata import platform_metadata

subprocessor_announcements = Table(
    "subprocessor_announcements",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    # The registry key (platform/subprocessors/registry.py) and the name as announced.
    Column("subprocessor", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("effective_date", Date, nullable=False),
    # When the last message was handed to the mail server (application clock).
    Column("announced_at", DateTime(timezone=True), nullable=False),
    # Owners of live accounts at the time, and how many messages the server accepted.
    Column("recipients", Integer, nullable=False),
    Column("sent", Integer, nullable=False),
    Index("ix_subprocessor_announcements_subprocessor", "subprocessor", "effective_date"),
)
