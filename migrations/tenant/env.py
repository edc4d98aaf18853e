"""Alembic environment applied to one tenant schema at a time.

The caller (`audora migrate`) hands over a connection whose transaction is already
pointed at the tenant's schema by the tenant binding, so migrations use unqualified
names and the version table lands in that schema: each tenant keeps its own version.
"""

from __future__ import annotations

from alembic import context

from audora.tenants.tables import tenant_metadata

connection = context.config.attributes["connection"]
schema = context.config.attributes["tenant_schema"]
context.configure(
    connection=connection,
    target_metadata=tenant_metadata,
    version_table_schema=schema,
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
