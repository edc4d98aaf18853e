"""Which tenants each sweep must visit (tenants/registry/due_work.py). Every tenant that
exists already is marked due for every sweep, so the first runs visit them all, as the
sweeps did before, and clear the marks of those with nothing in flight.

Revision ID: 0015_platform
Revises: 0014_platform
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0015_platform"
down_revision = "0014_platform"
branch_labels = None
depends_on = None

S = "platform"


def upgrade() -> None:
    op.create_table(
        "tenant_due_work",
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("sweep", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "sweep IN ('calls', 'bots', 'pushes', 'retention')", name="ck_tenant_due_work_sweep"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            [f"{S}.accounts.id"],
            name="fk_tenant_due_work_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "sweep", name="pk_tenant_due_work"),
        schema=S,
    )
    op.create_index(
        "ix_tenant_due_work_sweep_due_at", "tenant_due_work", ["sweep", "due_at"], schema=S
    )
    op.execute(
        f"INSERT INTO {S}.tenant_due_work (account_id, sweep, due_at) "
        f"SELECT a.id, s.sweep, now() FROM {S}.accounts a "
        "CROSS JOIN (VALUES ('calls'), ('bots'), ('pushes'), ('retention')) AS s (sweep) "
        "WHERE a.status <> 'PURGED'"
    )


def downgrade() -> None:
    op.drop_table("tenant_due_work", schema=S)
