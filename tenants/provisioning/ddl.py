"""The SQL that creates one tenant's schema, role and tables.

New tenants do not pay a full alembic run: the current tenant tables are rendered once
from `tenant_metadata` and the schema is stamped with the stream's head. A test proves
this gives exactly the schema that running every tenant migration gives.
"""

from __future__ import annotations

import re
from functools import cache

from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from audora.platform.db.role_makers import create_tenant_role
from audora.platform.db.roles import PROVISIONER_ROLE
from audora.platform.db.tenant_names import TenantSchema, tenant_role
from audora.tenants.audit.tables import append_only_ddl
from audora.tenants.tables import tenant_metadata

# Alembic's own version table, as alembic creates it.
VERSION_TABLE_DDL = (
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
)


@cache
def tenant_tables_ddl() -> tuple[str, ...]:
    """CREATE TABLE and CREATE INDEX for every tenant table, unqualified."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    statements: list[str] = []
    for table in tenant_metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        statements.extend(
            str(CreateIndex(index).compile(dialect=dialect)).strip() for index in table.indexes
        )
    if not statements:
        raise RuntimeError("no tenant tables are registered on tenant_metadata")
    return tuple(statements)


@cache
def tenant_objects_batch() -> str:
    """Every tenant table and index and alembic's version table, as one batch: the same
    text for every tenant, so the statement guard parses it once and caches its verdict
    (parsed anew for each tenant, as part of a batch naming the tenant, it was a fifth of
    a sign-up's CPU)."""
    return ";\n".join([*tenant_tables_ddl(), VERSION_TABLE_DDL])


def create_schema_and_role(schema: TenantSchema) -> list[str]:
    """Role and schema, run by the provisioner. Names are validated `TenantSchema`s."""
    return [create_tenant_role(schema), *schema_and_grants(schema)]


def schema_and_grants(schema: TenantSchema) -> list[str]:
    """The schema, open to its tenant role only (which must exist)."""
    role = tenant_role(schema)
    return [
        f"CREATE SCHEMA {schema}",
        f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        # Tables created later by migrations get the same grants without naming the role.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {PROVISIONER_ROLE} IN SCHEMA {schema} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
    ]


_REVISION = re.compile(r"\A[0-9a-z_]{1,32}\Z")


def version_table(schema: TenantSchema, head: str) -> list[str]:
    """Alembic's version table, stamped at `head`, closed to the tenant role."""
    if not _REVISION.match(head):
        raise ValueError(f"unexpected revision id {head!r}")
    return [
        # `head` is checked against _REVISION above; DDL batches take no bind parameters.
        f"INSERT INTO alembic_version (version_num) VALUES ('{head}')",  # noqa: S608
        *close_version_table(schema),
    ]


def tenant_safeguards(schema: TenantSchema) -> list[str]:
    """What the tables alone do not say: the audit log is append-only (its triggers
    refuse even the owner; their function is named after the tenant), and the tenant
    role only ever adds to the access log (the expiry job, as the schema owner, deletes
    expired rows)."""
    return [*append_only_ddl(schema), *tenant_revokes(schema)]


def tenant_revokes(schema: TenantSchema) -> list[str]:
    """What the tenant role may not do to the audit and access logs."""
    role = tenant_role(schema)
    return [
        f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {role}",
        f"REVOKE DELETE, TRUNCATE ON audit_chain FROM {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON access_log FROM {role}",
    ]


def close_version_table(schema: TenantSchema) -> list[str]:
    # Default privileges grant every new table to the tenant role; its migration state
    # is none of its business.
    return [f"REVOKE ALL ON alembic_version FROM {tenant_role(schema)}"]
