"""Members: the account's seats, and owners and admins changing or removing them.

- Only roles holding members:manage (owners and admins) change seats. Only an owner
  changes or removes an owner, or makes one. Nobody changes their own role or removes
  themselves, and the last owner can be neither demoted nor removed.
- Owners and admins see every client profile: their seat is never scoped. A member's or
  viewer's scope names profiles of the request's tenant only (NOT_FOUND otherwise).
- A user id that holds no seat here (another tenant's, or nobody's) is NOT_FOUND.
- Every change runs with all the account's seats locked and judges the caller by their
  seat as it is under the lock, not as it was when the request began: two owners
  demoting each other at once take turns, and the second one is no longer an owner.
- The principal is rebuilt from the memberships row on every request
  (`platform.auth.service.authenticate`) and nothing keeps it longer (DataLoaders live
  one request, Redis holds no permissions), so a change applies from the member's very
  next request. A removal also ends the member's sessions in this account and withdraws
  the invitations they sent that are still open.

Seats are platform rows and the audit log is the tenant's: the two cannot share one
transaction. The audit entry (who, whom, before, after) is committed while the seat's
change is written but not yet committed, under its locks; the change commits after it.
So a change is never kept without its entry; at worst, should that last commit fail, an
entry records a change that did not happen.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any, Final

from sqlalchemy import RowMapping

from audora.platform.auth.permissions import Permission, allows
from audora.platform.auth.principal import Principal, Role
from audora.platform.auth.service import ClientInfo
from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.errors import AppError, ErrorCode, bad_input, forbidden, not_found
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append_alone
from audora.tenants.identity import repository
from audora.tenants.identity.invitations import checked_scope

Scope = tuple[uuid.UUID, ...] | None
UNSCOPED_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class _Keep(Enum):
    KEEP = "keep"


# An update that leaves the seat's scope as it is (None would mean "every profile").
KEEP: Final = _Keep.KEEP


@dataclass(frozen=True)
class MemberRecord:
    user_id: uuid.UUID
    email: str
    full_name: str
    role: Role
    client_profile_ids: Scope
    joined_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> MemberRecord:
        scope = row["client_profile_ids"]
        return cls(
            user_id=row["user_id"],
            email=row["email"],
            full_name=row["full_name"],
            role=Role(row["role"]),
            client_profile_ids=tuple(scope) if scope is not None else None,
            joined_at=row["joined_at"],
        )

    def seat(self) -> dict[str, Any]:
        """The seat as the audit log keeps it."""
        scope = self.client_profile_ids
        return {
            "role": self.role.value,
            "clientProfileIds": [str(i) for i in scope] if scope is not None else None,
        }


async def list_members(runtime: Runtime, principal: Principal) -> list[MemberRecord]:
    """The account's members, oldest seat first. A scoped caller sees other seats'
    scopes cut down to its own: profiles it cannot see are not named to it."""
    async with runtime.platform_engine.connect() as conn:
        rows = await repository.members_of(conn, principal.account_id)
    members = [MemberRecord.from_row(row) for row in rows]
    visible = principal.client_profile_ids
    if visible is None:
        return members
    return [
        m
        if m.client_profile_ids is None
        else replace(m, client_profile_ids=tuple(i for i in m.client_profile_ids if i in visible))
        for m in members
    ]


def _manager_role(seats: dict[uuid.UUID, RowMapping], principal: Principal) -> Role:
    """The caller's role as it is now, under the lock."""
    own = seats.get(principal.user_id)
    role = Role(own["role"]) if own is not None else None
    if role is None or not allows(role, Permission.MEMBERS_MANAGE):
        raise forbidden("only owners and admins manage members")
    return role


def _target(seats: dict[uuid.UUID, RowMapping], user_id: uuid.UUID) -> MemberRecord:
    row = seats.get(user_id)
    if row is None:
        raise not_found("member")
    return MemberRecord.from_row(row)


def _keeps_an_owner(
    seats: dict[uuid.UUID, RowMapping], user_id: uuid.UUID, new_role: Role | None
) -> None:
    owners = {u for u, row in seats.items() if row["role"] == Role.OWNER.value}
    if new_role is not Role.OWNER:
        owners.discard(user_id)
    if not owners:
        raise AppError("the account must keep an owner", code=ErrorCode.CONFLICT)


def _changed(
    actor: Role,
    before: MemberRecord,
    role: Role | None,
    scope: Scope | _Keep,
    *,
    is_self: bool,
) -> MemberRecord:
    new_role = role if role is not None else before.role
    if is_self and new_role is not before.role:
        raise forbidden("you cannot change your own role")
    if Role.OWNER in (before.role, new_role) and actor is not Role.OWNER:
        raise forbidden("only an owner changes an owner or makes one")
    if new_role in UNSCOPED_ROLES:
        if scope is not KEEP and scope is not None:
            raise bad_input(
                "owners and admins see every client profile: clientProfileIds must be null",
                field="clientProfileIds",
            )
        new_scope: Scope = None
    else:
        new_scope = before.client_profile_ids if scope is KEEP else scope
    return replace(before, role=new_role, client_profile_ids=new_scope)


async def update_member(
    runtime: Runtime,
    uow: TenantUnitOfWork,
    principal: Principal,
    client: ClientInfo,
    user_id: uuid.UUID,
    *,
    role: Role | None,
    client_profile_ids: Sequence[uuid.UUID] | _Keep | None,
) -> MemberRecord:
    """Change a seat's role and/or scope (`None` role and `KEEP` scope: unchanged)."""
    scope: Scope | _Keep = (
        KEEP
        if client_profile_ids is KEEP
        else await checked_scope(
            uow, principal, list(client_profile_ids) if client_profile_ids is not None else None
        )
    )
    async with runtime.platform_engine.begin() as conn:
        seats = {
            row["user_id"]: row for row in await repository.lock_members(conn, principal.account_id)
        }
        actor = _manager_role(seats, principal)
        before = _target(seats, user_id)
        after = _changed(actor, before, role, scope, is_self=user_id == principal.user_id)
        if after == before:
            return before
        _keeps_an_owner(seats, user_id, after.role)
        await repository.update_membership(
            conn,
            principal.account_id,
            user_id,
            role=after.role.value,
            client_profile_ids=(
                list(after.client_profile_ids) if after.client_profile_ids is not None else None
            ),
        )
        await _audit(
            runtime,
            principal,
            client,
            "member.updated",
            before,
            {"before": before.seat(), "after": after.seat()},
        )
    return after


async def remove_member(
    runtime: Runtime, principal: Principal, client: ClientInfo, user_id: uuid.UUID
) -> None:
    """Take a seat away: its sessions in this account end at once, and the invitations
    its holder sent and that are still open are withdrawn."""
    now = runtime.clock.now()
    async with runtime.platform_engine.begin() as conn:
        seats = {
            row["user_id"]: row for row in await repository.lock_members(conn, principal.account_id)
        }
        actor = _manager_role(seats, principal)
        before = _target(seats, user_id)
        if user_id == principal.user_id:
            raise forbidden("you cannot remove yourself: ask another owner or admin")
        if before.role is Role.OWNER and actor is not Role.OWNER:
            raise forbidden("only an owner removes an owner")
        _keeps_an_owner(seats, user_id, None)
        await repository.delete_membership(conn, principal.account_id, user_id)
        ended = await repository.revoke_seat_sessions(conn, principal.account_id, user_id, now)
        withdrawn = await repository.revoke_sent_by(conn, principal.account_id, user_id, now)
        await _audit(
            runtime,
            principal,
            client,
            "member.removed",
            before,
            {
                "before": before.seat(),
                "after": None,
                "sessionsEnded": [str(i) for i in ended],
                "invitationsWithdrawn": [str(i) for i in withdrawn],
            },
        )


async def _audit(
    runtime: Runtime,
    principal: Principal,
    client: ClientInfo,
    action: str,
    whom: MemberRecord,
    details: dict[str, Any],
) -> None:
    """Commit the entry now, before the caller's platform transaction: see the module's
    docstring. A failure here raises, and the change is rolled back with it."""
    await append_alone(
        runtime.tenant_engines,
        principal.tenant,
        runtime.clock.now(),
        AuditEntry(
            actor=f"user:{principal.user_id}",
            action=action,
            target=f"user:{whom.user_id}",
            ip=client.ip,
            details={"email": whom.email, **details},
        ),
    )
