"""Identity: sealed TOTP secrets, recovery codes, WebAuthn credentials, known devices
and invitations.

Revision ID: 0003_platform
Revises: 0002_platform
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0003_platform"
down_revision = "0002_platform"
branch_labels = None
depends_on = None

S = "platform"


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], [f"{S}.users.id"], ondelete="CASCADE", name=f"fk_{table}_user_id_users"
    )


def upgrade() -> None:
    uuid = pg.UUID(as_uuid=True)
    ts = sa.DateTime(timezone=True)
    for column in (
        sa.Column("password_changed_at", ts),
        sa.Column("wrapped_key", sa.LargeBinary),
        sa.Column("totp_pending", sa.LargeBinary),
        sa.Column("totp_secret", sa.LargeBinary),
        sa.Column("totp_enabled_at", ts),
        sa.Column("totp_last_step", sa.BigInteger),
    ):
        op.add_column("users", column, schema=S)
    op.create_table(
        "recovery_codes",
        sa.Column("id", uuid, nullable=False),
        sa.Column("user_id", uuid, nullable=False),
        sa.Column("code_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", ts, nullable=False, server_default=sa.func.now()),
        sa.Column("used_at", ts),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_codes"),
        _user_fk("recovery_codes"),
        sa.UniqueConstraint("code_hash", name="uq_recovery_codes_code_hash"),
        schema=S,
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"], schema=S)
    op.create_table(
        "webauthn_credentials",
        sa.Column("id", uuid, nullable=False),
        sa.Column("user_id", uuid, nullable=False),
        sa.Column("credential_id", sa.LargeBinary, nullable=False),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("sign_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("transports", pg.ARRAY(sa.String(32))),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", ts, nullable=False, server_default=sa.func.now()),
        sa.Column("last_used_at", ts),
        sa.PrimaryKeyConstraint("id", name="pk_webauthn_credentials"),
        _user_fk("webauthn_credentials"),
        sa.UniqueConstraint("credential_id", name="uq_webauthn_credentials_credential_id"),
        schema=S,
    )
    op.create_index(
        "ix_webauthn_credentials_user_id", "webauthn_credentials", ["user_id"], schema=S
    )
    op.create_table(
        "known_devices",
        sa.Column("id", uuid, nullable=False),
        sa.Column("user_id", uuid, nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(32), nullable=False),
        sa.Column("first_seen_at", ts, nullable=False),
        sa.Column("last_seen_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_known_devices"),
        _user_fk("known_devices"),
        sa.UniqueConstraint("user_id", "fingerprint", name="uq_known_devices_user_id_fingerprint"),
        schema=S,
    )
    op.create_table(
        "invitations",
        sa.Column("id", uuid, nullable=False),
        sa.Column("account_id", uuid, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("client_profile_ids", pg.ARRAY(uuid)),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("invited_by", uuid, nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("expires_at", ts, nullable=False),
        sa.Column("accepted_at", ts),
        sa.Column("revoked_at", ts),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            [f"{S}.accounts.id"],
            ondelete="CASCADE",
            name="fk_invitations_account_id_accounts",
        ),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
        schema=S,
    )
    op.create_index("ix_invitations_account_id", "invitations", ["account_id"], schema=S)


def downgrade() -> None:
    for table in ("invitations", "known_devices", "webauthn_credentials", "recovery_codes"):
        op.drop_table(table, schema=S)
    for column in (
        "totp_last_step",
        "totp_enabled_at",
        "totp_secret",
        "totp_pending",
        "wrapped_key",
        "password_changed_at",
    ):
        op.drop_column("users", column, schema=S)
