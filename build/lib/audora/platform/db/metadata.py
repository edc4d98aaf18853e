"""The two kinds of table the platform has.

`platform_metadata` lives in the shared `platform` schema: accounts, users, sessions and
other records that cross tenants, holding no customer content. `tenant_metadata` has no
schema: its tables exist once per tenant schema and are reached through the tenant
binding's search_path, so the same definitions serve every tenant.
"""

from __future__ import annotations

from sqlalchemy import MetaData

PLATFORM_SCHEMA = "platform"

_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

platform_metadata = MetaData(schema=PLATFORM_SCHEMA, naming_convention=_NAMING)
tenant_metadata = MetaData(naming_convention=_NAMING)
