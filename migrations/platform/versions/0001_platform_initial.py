"""The platform schema: accounts (tenants), users, memberships, sessions, key slots.

Revision ID: 0001_platform
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0001_platform"
down_revision = None
branch_labels = None
depends_on = None

S = "platform"


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="ACTIVE"),
        sa.Column("plan", sa.String(16), nullable=False, server_default="STUDIO"),
        sa.Column("schema_name", sa.String(63), nullable=False),
        sa.Column("bucket", sa.String(63), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("schema_name", name="uq_accounts_schema_name"),
        sa.UniqueConstraint("bucket", name="uq_accounts_bucket"),
        schema=S,
    )
    op.create_table(
        "tenant_storage_identities",
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("access_key", sa.String(64), nullable=False),
        sa.Column("secret_key", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_tenant_storage_identities"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            [f"{S}.accounts.id"],
            ondelete="CASCADE",
            name="fk_tenant_storage_identities_account_id_accounts",
        ),
        sa.UniqueConstraint("access_key", name="uq_tenant_storage_identities_access_key"),
        schema=S,
    )
    op.create_table(
        "tenant_keys",
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("kek_ref", sa.Text, nullable=True),
        sa.Column("state", sa.String(16), nullable=False, server_default="PENDING"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_tenant_keys"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            [f"{S}.accounts.id"],
            ondelete="CASCADE",
            name="fk_tenant_keys_account_id_accounts",
        ),
        schema=S,
    )
    op.create_table(
        "users",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        schema=S,
    )
    op.create_table(
        "memberships",
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("client_profile_ids", pg.ARRAY(pg.UUID(as_uuid=True)), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("account_id", "user_id", name="pk_memberships"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            [f"{S}.accounts.id"],
            ondelete="CASCADE",
            name="fk_memberships_account_id_accounts",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], [f"{S}.users.id"], ondelete="CASCADE", name="fk_memberships_user_id_users"
        ),
        schema=S,
    )
    op.create_table(
        "sessions",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("user_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ip", pg.INET, nullable=True),
        sa.Column("user_agent", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_sessions_token_hash"),
        sa.ForeignKeyConstraint(
            ["user_id"], [f"{S}.users.id"], ondelete="CASCADE", name="fk_sessions_user_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            [f"{S}.accounts.id"],
            ondelete="CASCADE",
            name="fk_sessions_account_id_accounts",
        ),
        schema=S,
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"], schema=S)
    # The application and the provisioner read and write platform rows; neither owns
    # them, so neither can alter or drop them.
    op.execute(f"GRANT USAGE ON SCHEMA {S} TO audora_app, audora_provisioner")
    op.execute(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {S} "
        "TO audora_app, audora_provisioner"
    )
    # Tables later migrations add get the same grants.
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {S} GRANT SELECT, INSERT, UPDATE, DELETE "
        "ON TABLES TO audora_app, audora_provisioner"
    )


def downgrade() -> None:
    for table in (
        "sessions",
        "memberships",
        "users",
        "tenant_keys",
        "tenant_storage_identities",
        "accounts",
    ):
        op.drop_table(table, schema=S)
