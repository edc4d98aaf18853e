"""Re-encryption reaches every sealed value only if it knows every sealed column: each
binary column of a tenant table is either listed in SEALED_COLUMNS or is a key or a
hash by design."""

from __future__ import annotations

from sqlalchemy import LargeBinary

from audora.tenants.keys.sealed_columns import SEALED_COLUMNS
from audora.tenants.tables import TENANT_TABLES

# Wrapped keys are rewrapped by KEK rotation; chain hashes are not secret.
NOT_SEALED_BY_A_DATA_KEY = {
    "data_keys.wrapped",
    "recordings.wrapped_key",
    "data_exports.wrapped_key",
    "audit_events.prev_hash",
    "audit_events.hash",
    "audit_chain.last_hash",
}


def test_every_binary_tenant_column_is_a_known_sealed_column_or_a_key() -> None:
    binary = {
        f"{table.name}.{column.name}"
        for table in TENANT_TABLES
        for column in table.columns
        if isinstance(column.type, LargeBinary)
    }
    assert binary - NOT_SEALED_BY_A_DATA_KEY == {c.name for c in SEALED_COLUMNS}
