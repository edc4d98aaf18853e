"""Alembic environment of the platform schema. Runs as the operator."""

from __future__ import annotations

from alembic import context

from audora.platform.db.metadata import PLATFORM_SCHEMA
from audora.platform.db.platform_tables import platform_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=platform_metadata,
    version_table_schema=PLATFORM_SCHEMA,
    include_schemas=False,
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
