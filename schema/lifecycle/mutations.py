"""Closing, reopening and exporting the account. A refusal for lack of the permission is
written to the tenant's audit log (`AuditedRequirement`), like a closure refused for its
confirmation: the issue asks for every refused lifecycle request to be audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission, allows
from audora.schema.context import RequestContext
from audora.schema.identity.types import Account, AccountStatus
from audora.schema.lifecycle.types import DataExport
from audora.schema.permissions import IsAuthenticated, Requires, RequiresPermission
from audora.tenants.lifecycle import closure, export


class AuditedRequirement(RequiresPermission):
    """`requires(permission)`, and a refusal is recorded in the tenant's audit log."""

    def __init__(self, permission: Permission, action: str) -> None:
        super().__init__(permission)
        self.action = action

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: Info[RequestContext, None],
        **kwargs: Any,
    ) -> Any:
        principal = await info.context.principal()
        if not allows(principal.role, self.permission):
            await closure.audit_refusal(
                info.context.runtime,
                principal,
                self.action,
                f"role {principal.role.value} lacks {self.permission.value}",
                ip=info.context.client.ip,
            )
        return await super().resolve_async(next_, source, info, **kwargs)


def audited_requires(permission: Permission, action: str) -> dict[str, Any]:
    return {
        "directives": [Requires(permission=permission)],
        "extensions": [
            PermissionExtension([IsAuthenticated()]),
            AuditedRequirement(permission, action),
        ],
    }


def _account(info: Info[RequestContext, None], state: closure.AccountState, name: str) -> Account:
    return Account(
        id=strawberry.ID(ids.encode(ids.Kind.ACCOUNT, state.account_id)),
        name=name,
        status=AccountStatus(state.status),
        purge_after=state.purge_after,
    )


@strawberry.type
class LifecycleMutation:
    @strawberry.mutation(
        **audited_requires(Permission.ACCOUNT_MANAGE, "account.close_refused"),
        description="Owners: close the account. `confirm` must be the account's name. The "
        "account becomes read-only for a 30-day grace period (members can still sign in, "
        "read and export), then everything in it is deleted for good.",
    )
    async def close_account(self, info: Info[RequestContext, None], confirm: str) -> Account:
        principal = await info.context.principal()
        state = await closure.close_account(
            info.context.runtime, principal, confirm, ip=info.context.client.ip
        )
        return _account(info, state, principal.account_name)

    @strawberry.mutation(
        **audited_requires(Permission.ACCOUNT_MANAGE, "account.reopen_refused"),
        description="Owners: undo a closure within its grace period.",
    )
    async def reopen_account(self, info: Info[RequestContext, None]) -> Account:
        principal = await info.context.principal()
        state = await closure.reopen_account(
            info.context.runtime, principal, ip=info.context.client.ip
        )
        return _account(info, state, principal.account_name)

    @strawberry.mutation(
        **audited_requires(Permission.ACCOUNT_EXPORT, "export.refused"),
        description="Owners and admins: export all the account's data (also during a "
        "closure's grace). Built by a job; the owners get an email with a download link "
        "when it is READY. An export still being built is returned, not doubled.",
    )
    async def request_export(self, info: Info[RequestContext, None]) -> DataExport:
        record = await export.request_export(
            info.context.runtime, await info.context.principal(), ip=info.context.client.ip
        )
        return DataExport.from_record(record)
