from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import RowMapping

from audora.platform import ids
from audora.platform.auth.principal import Principal
from audora.platform.auth.principal import Role as RoleValue


@strawberry.enum
class Role(Enum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"
    VIEWER = "VIEWER"


@strawberry.enum
class AccountStatus(Enum):
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"
    LAPSED = "LAPSED"
    SUSPENDED = "SUSPENDED"
    PURGED = "PURGED"


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    full_name: str
    role: Role
    marketing_opt_in: bool | None = strawberry.field(
        default=None,
        description="Your own choice (on `me.user` only; null for other users): whether "
        "Audora may send you marketing email. False until you opt in with "
        "setMarketingConsent; account and security notices are sent regardless.",
    )

    @classmethod
    def from_principal(cls, principal: Principal) -> User:
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.USER, principal.user_id)),
            email=principal.email,
            full_name=principal.full_name,
            role=Role(principal.role.value),
        )

    @classmethod
    def from_row(cls, row: RowMapping) -> User:
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.USER, row["id"])),
            email=row["email"],
            full_name=row["full_name"],
            role=Role(RoleValue(row["role"]).value),
        )


@strawberry.type
class Account:
    id: strawberry.ID
    name: str
    status: AccountStatus
    purge_after: datetime | None = strawberry.field(
        default=None,
        description="While the account is CLOSED or LAPSED: when its grace period ends "
        "and all its data is deleted. Null otherwise.",
    )

    @classmethod
    def from_principal(cls, principal: Principal) -> Account:
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.ACCOUNT, principal.account_id)),
            name=principal.account_name,
            status=AccountStatus(principal.account_status),
            purge_after=principal.account_purge_after,
        )


@strawberry.type
class Session:
    id: strawberry.ID
    created_at: datetime
    last_seen_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool

    @classmethod
    def from_row(cls, row: Any, *, current_id: Any) -> Session:
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.SESSION, row["id"])),
            created_at=row["created_at"],
            last_seen_at=row["last_seen_at"],
            ip=str(row["ip"]) if row["ip"] is not None else None,
            user_agent=row["user_agent"],
            current=row["id"] == current_id,
        )


@strawberry.type(description="A passkey or security key registered as a second factor.")
class WebAuthnCredential:
    id: strawberry.ID
    name: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_row(cls, row: RowMapping) -> WebAuthnCredential:
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.WEBAUTHN_CREDENTIAL, row["id"])),
            name=row["name"],
            created_at=row["created_at"],
            last_used_at=row["last_used_at"],
        )


@strawberry.type
class AuthPayload:
    token: str
    user: User
    account: Account


@strawberry.type
class TotpEnrollment:
    secret: str
    otpauth_uri: str


@strawberry.type
class TotpConfirmation:
    recovery_codes: list[str]
