from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from audora.platform.auth.permissions import Permission
from audora.schema.audit.types import AUDIT_CURSOR, AuditChainCheck, AuditEventConnection
from audora.schema.context import RequestContext
from audora.schema.pagination import decode_cursor
from audora.schema.permissions import requires
from audora.tenants.audit import service


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="The account's audit log, newest first. Null with FORBIDDEN without "
        "audit:read.",
        **requires(Permission.AUDIT_READ),
    )
    async def audit_log(
        self,
        info: Info[RequestContext, None],
        first: Annotated[
            int | None,
            strawberry.argument(description=f"At most {service.MAX_PAGE}."),
        ] = service.DEFAULT_PAGE,
        after: Annotated[
            str | None,
            strawberry.argument(description="The endCursor of the page before."),
        ] = None,
        action: Annotated[
            str | None,
            strawberry.argument(
                description="Only this action (login.failed), or, ending in a dot, every "
                "action it starts (login.)."
            ),
        ] = None,
    ) -> AuditEventConnection | None:
        before = decode_cursor(AUDIT_CURSOR, after) if after is not None else None
        page = await service.list_events(
            await info.context.tenant_uow(),
            await info.context.principal(),
            first=service.DEFAULT_PAGE if first is None else first,
            before_seq=before,
            action=action,
        )
        return AuditEventConnection.from_page(page)

    @strawberry.field(
        description="Recompute the audit log's hash chain; names the first altered event. "
        "Null with FORBIDDEN without audit:read.",
        **requires(Permission.AUDIT_READ),
    )
    async def verify_audit_chain(self, info: Info[RequestContext, None]) -> AuditChainCheck | None:
        check = await service.check_chain(
            await info.context.tenant_uow(), await info.context.principal()
        )
        return AuditChainCheck.from_check(check)
