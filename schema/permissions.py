"""Permission classes attached to fields with `PermissionExtension`."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from audora.platform.auth.principal import Role
from audora.platform.errors import forbidden
from audora.schema.context import RequestContext


class IsAuthenticated(BasePermission):
    message = "authentication required"

    async def has_permission(
        self, source: Any, info: Info[RequestContext, None], **kwargs: Any
    ) -> bool:
        await info.context.principal()  # raises UNAUTHENTICATED
        return True


class CanWriteClients(BasePermission):
    """Until the permission matrix arrives, viewers read and everyone else writes."""

    message = "your role does not allow changing client profiles"

    async def has_permission(
        self, source: Any, info: Info[RequestContext, None], **kwargs: Any
    ) -> bool:
        principal = await info.context.principal()
        return principal.role is not Role.VIEWER

    def on_unauthorized(self) -> None:
        raise forbidden(self.message)
