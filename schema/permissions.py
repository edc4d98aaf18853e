"""Who may resolve a field: signed in (`IsAuthenticated`), and holding a permission of
the matrix (`requires`). `requires` both marks the field with `@requires(permission:
...)` in the SDL (strawberry's schema directives are metadata only) and enforces it
with a field extension: without the permission the field answers null with a FORBIDDEN
error whose path names it, and the rest of the query answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location
from strawberry.types import Info

from audora.platform.auth.permissions import Permission, principal_allows
from audora.platform.auth.principal import Principal
from audora.platform.errors import forbidden, not_found, unauthenticated
from audora.schema.context import RequestContext

strawberry.enum(Permission, name="Permission")


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requires",
    description="Only roles holding this permission see the field (docs/permissions.md).",
)
class Requires:
    permission: Permission


class IsAuthenticated(BasePermission):
    message = "authentication required"

    async def has_permission(
        self, source: Any, info: Info[RequestContext, None], **kwargs: Any
    ) -> bool:
        await info.context.principal()  # raises UNAUTHENTICATED
        return True


def _refusal(principal: Principal, permission: Permission) -> Exception:
    if principal.staff is not None:
        # Staff see nothing of what their grant's scope leaves out, not even that it is
        # there: the same answer as for what does not exist.
        return not_found(permission.value.split(":")[0])
    return forbidden(f"your role does not have {permission.value}")


class RequiresPermission(FieldExtension):
    def __init__(self, permission: Permission) -> None:
        super().__init__()
        self.permission = permission

    def resolve(
        self,
        next_: Callable[..., Any],
        source: Any,
        info: Info[RequestContext, None],
        **kwargs: Any,
    ) -> Any:
        # A plain attribute's field resolves synchronously: its parent object was
        # reached through an authenticated resolver, so the caller is already known.
        principal = info.context.known_principal()
        if principal is None:
            raise unauthenticated()
        if not principal_allows(principal, self.permission):
            raise _refusal(principal, self.permission)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: Info[RequestContext, None],
        **kwargs: Any,
    ) -> Any:
        principal = await info.context.principal()
        if not principal_allows(principal, self.permission):
            raise _refusal(principal, self.permission)
        return await next_(source, info, **kwargs)


def requires(permission: Permission) -> dict[str, Any]:
    """Keyword arguments for `strawberry.field`/`mutation`: sign-in, then `permission`."""
    return {
        "directives": [Requires(permission=permission)],
        "extensions": [PermissionExtension([IsAuthenticated()]), RequiresPermission(permission)],
    }


def requires_on_attribute(permission: Permission) -> dict[str, Any]:
    """The same for a plain attribute of a type whose parent resolver signed in."""
    return {
        "directives": [Requires(permission=permission)],
        "extensions": [RequiresPermission(permission)],
    }
