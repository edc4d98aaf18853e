"""Names of a tenant's database schema, database role and bucket.

They are derived from the tenant's internal id, never from anything a user typed, and
validated by one regular expression in this one place: only `tenant_schema` and
`validate_tenant_schema` may make a `TenantSchema`, so any value of that type is safe to
use as an identifier.
"""

from __future__ import annotations

import re
import uuid
from typing import NewType

TenantSchema = NewType("TenantSchema", str)
# A restore drill's throw-away copy of a tenant schema, owned by the provisioner and
# granted to no tenant role; never matched by the tenant pattern, so no migration or
# listing of tenants ever takes it for one.
ScratchSchema = NewType("ScratchSchema", str)

_TENANT_SCHEMA = re.compile(r"\At_[0-9a-f]{32}\Z")
_SCRATCH_SCHEMA = re.compile(r"\Arestore_[0-9a-f]{32}\Z")
_BUCKET = re.compile(r"\A[a-z0-9][a-z0-9-]{0,30}[0-9a-f]{32}\Z")


class InvalidTenantName(ValueError):
    pass


def tenant_schema(tenant_id: uuid.UUID) -> TenantSchema:
    """The schema (and role) name of a tenant: `t_` and its id in hex."""
    return validate_tenant_schema(f"t_{tenant_id.hex}")


def validate_tenant_schema(name: str) -> TenantSchema:
    if not _TENANT_SCHEMA.match(name):
        raise InvalidTenantName(f"not a tenant schema name: {name!r}")
    return TenantSchema(name)


def tenant_role(schema: TenantSchema) -> str:
    """A tenant's database role has its schema's name: one tenant, one of each."""
    return str(schema)


def tenant_bucket(prefix: str, tenant_id: uuid.UUID) -> str:
    """The prefix (a setting) and the tenant's id in hex, checked against S3's naming
    rules, dots left out: the name goes into request paths as it is."""
    name = f"{prefix}{tenant_id.hex}"
    if not _BUCKET.match(name):
        raise InvalidTenantName(f"not a valid bucket name: {name!r}")
    return name


def scratch_schema(drill_id: uuid.UUID) -> ScratchSchema:
    """The schema a restore drill restores into: `restore_` and the drill's id in hex."""
    name = f"restore_{drill_id.hex}"
    if not _SCRATCH_SCHEMA.match(name):
        raise InvalidTenantName(f"not a scratch schema name: {name!r}")
    return ScratchSchema(name)
