"""Tenant placement: the PostgreSQL clusters tenant schemas live on, and which one each
tenant is on. The platform's own database is the cluster "primary", and every tenant
that exists already is on it.

Revision ID: 0014_platform
Revises: 0013_platform
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0014_platform"
down_revision = "0013_platform"
branch_labels = None
depends_on = None

S = "platform"


def upgrade() -> None:
    op.create_table(
        "clusters",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("urls_setting", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), server_default="OPEN", nullable=False),
        sa.Column("capacity_weight", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("state IN ('OPEN', 'DRAINING', 'CLOSED')", name="ck_clusters_state"),
        sa.CheckConstraint("capacity_weight > 0", name="ck_clusters_capacity_weight"),
        sa.PrimaryKeyConstraint("name", name="pk_clusters"),
        schema=S,
    )
    op.create_table(
        "tenant_placements",
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("cluster", sa.String(32), nullable=False),
        sa.Column(
            "placed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("moving_since", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            [f"{S}.accounts.id"],
            name="fk_tenant_placements_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cluster"], [f"{S}.clusters.name"], name="fk_tenant_placements_cluster_clusters"
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_tenant_placements"),
        schema=S,
    )
    op.create_index("ix_tenant_placements_cluster", "tenant_placements", ["cluster"], schema=S)
    op.execute(
        f"INSERT INTO {S}.clusters (name, urls_setting) "
        "VALUES ('primary', 'AUDORA_PROVISIONER_DATABASE_URL')"
    )
    op.execute(
        f"INSERT INTO {S}.tenant_placements (account_id, cluster, placed_at) "
        f"SELECT id, 'primary', created_at FROM {S}.accounts"
    )


def downgrade() -> None:
    op.drop_table("tenant_placements", schema=S)
    op.drop_table("clusters", schema=S)
