"""Six tables whose rows always fit in a page keep their values inline (STORAGE PLAIN):
the audit chain's head, data keys, re-encryption passes, data exports, integration
pushes and calls (platform/db/inline_rows.py).

A tenant provisioned from now on has no TOAST table for them: two relations and two
files fewer each. A tenant made before keeps its TOAST tables, which PostgreSQL only
drops with a rewrite of the table; values already out of line stay readable there, and
new values are stored inline. Setting a column's storage changes the catalog only,
under a brief exclusive lock of each table. Failure reasons longer than 500 characters
are clipped first, as the code now clips them.

Revision ID: 0009_tenant
Revises: 0008_tenant
"""

from __future__ import annotations

from alembic import op

revision = "0009_tenant"
down_revision = "0008_tenant"
branch_labels = None
depends_on = None

# Every variable-length column of those tables, as of this revision.
_COLUMNS = {
    "audit_chain": ("last_hash",),
    "data_keys": ("purpose", "wrapped"),
    "reencryptions": ("purpose", "status", "cursor"),
    "data_exports": ("status", "object_key", "wrapped_key", "failure_reason"),
    "integration_pushes": ("status", "last_error"),
    "calls": (
        "title",
        "status",
        "failure_reason",
        "consent_methods",
        "consent_jurisdiction",
        "generation_kinds",
    ),
}


def _set_storage(storage: str) -> None:
    for table, columns in _COLUMNS.items():
        changes = ", ".join(f"ALTER COLUMN {column} SET STORAGE {storage}" for column in columns)
        op.execute(f"ALTER TABLE {table} {changes}")


# Reasons were unbounded before: a longer one, rewritten inline by a move, a restore or
# a table rewrite, could make a row too big for its page. Clipped as `bounded_reason`
# clips them (500 characters, the last an ellipsis).
_REASONS = {
    "calls": "failure_reason",
    "data_exports": "failure_reason",
    "integration_pushes": "last_error",
}


def upgrade() -> None:
    for table, column in _REASONS.items():
        op.execute(
            f"UPDATE {table} SET {column} = left({column}, 499) || '…' "
            f"WHERE char_length({column}) > 500"
        )
    _set_storage("PLAIN")


def downgrade() -> None:
    # EXTENDED is each of these types' default; PostgreSQL makes a TOAST table again
    # where a table has none.
    _set_storage("EXTENDED")
