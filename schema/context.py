"""The request context every resolver receives.

It holds who is calling (authenticated once, lazily, from the bearer token) and the
request's unit of work, bound to the caller's tenant when first asked for. The tenant
always comes from the session: there is no other way to get a unit of work here.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import DocumentNode
from strawberry.dataloader import DataLoader

from audora.platform.auth import repository as auth_repository
from audora.platform.auth.principal import Principal
from audora.platform.auth.service import ClientInfo, Revoked, authenticate
from audora.platform.db.tenant_binding import TenantUnitOfWork, tenant_transaction
from audora.platform.errors import unauthenticated
from audora.platform.runtime import Runtime
from audora.tenants.access_log.log import AccessEntry, insert_in
from audora.tenants.audit.log import AuditEntry, append_alone
from audora.tenants.audit.security_events import session_revoked
from audora.tenants.staff_access.grants import GRANT_PREFIX, authenticate_grant

if TYPE_CHECKING:
    from sqlalchemy import RowMapping

log = logging.getLogger(__name__)


@dataclass
class RequestContext:
    runtime: Runtime
    client: ClientInfo
    token: str | None
    # Where this API is reached, for the URLs it hands out (upload URLs).
    base_url: str = ""
    # The document the execution parsed (for the access log's operation name).
    document: DocumentNode | None = None
    # A WebSocket's `connection_init` payload (strawberry sets it): where the bearer
    # token of a subscription comes from.
    connection_params: dict[str, Any] | None = None
    # Objects that failed their integrity check during the request: each is audited.
    integrity_failures: list[str] = field(default_factory=list)
    _principal: Principal | None = None
    _uow: TenantUnitOfWork | None = None
    _exit: AsyncExitStack = field(default_factory=AsyncExitStack)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)
    _after_commit: list[Callable[[], Awaitable[object]]] = field(default_factory=list)

    def known_principal(self) -> Principal | None:
        """The caller if already authenticated in this request, without I/O."""
        return self._principal

    async def principal(self) -> Principal:
        async with self._lock:
            return await self._authenticate()

    async def _authenticate(self) -> Principal:
        if self._principal is None:
            if not self.token:
                raise unauthenticated()
            if self.token.startswith(GRANT_PREFIX):
                self._principal = await authenticate_grant(self.runtime, self.token, self.client)
                return self._principal
            try:
                self._principal = await authenticate(
                    self.runtime.platform_engine,
                    self.runtime.clock,
                    self.token,
                    idle_timeout=self.runtime.settings.session_idle,
                    client=self.client,
                )
            except Revoked as replayed:
                await session_revoked(
                    self.runtime,
                    replayed.account_id,
                    replayed.session_id,
                    user_id=replayed.user_id,
                    ip=self.client.ip,
                    reason="token replayed from another address or user agent",
                    userAgent=self.client.agent,
                )
                raise unauthenticated("invalid or expired session") from None
        return self._principal

    async def tenant_uow(self) -> TenantUnitOfWork:
        """The request's transaction, bound to the caller's tenant. Sibling fields
        resolve concurrently: the lock makes them share one transaction."""
        async with self._lock:
            return await self._open_uow()

    async def _open_uow(self) -> TenantUnitOfWork:
        if self._uow is None:
            principal = await self._authenticate()
            self._uow = await self._exit.enter_async_context(
                tenant_transaction(self.runtime.tenant_engines, principal.tenant)
            )
        return self._uow

    def after_commit(self, action: Callable[[], Awaitable[object]]) -> None:
        """Run `action` once the request's transaction has committed (queueing a job
        that must find what the request wrote); never if it rolls back."""
        self._after_commit.append(action)

    async def finish(self, *, success: bool, access: AccessEntry | None = None) -> bool:
        """The request boundary: commit what the operation did, or nothing at all; then
        what was to follow the commit. Those actions must not raise: their failures
        are theirs to handle (a job that cannot be queued is found by a sweep).

        With `access`, a successful request's access-log row goes into its own
        transaction: one insert instead of a transaction of its own, and no access that
        is not logged (a row that cannot be written fails the request). Returns whether
        it was written so; if not (no tenant transaction, or a failure), the caller
        writes it alone."""
        committed = False
        try:
            if self._uow is not None and success:
                if access is not None:
                    await insert_in(self._uow, access)
                await self._uow.commit()
                committed = True
        finally:
            await self._exit.aclose()
        if committed or (success and self._uow is None):
            for action in self._after_commit:
                try:
                    await action()
                except Exception:
                    # What committed stands; the answer must say so.
                    log.exception("an action after the commit failed")
        return committed and access is not None

    async def audit_integrity_failures(self) -> None:
        """Record each failed integrity check in the tenant's audit log, in a transaction
        of its own: the request's was rolled back, the event must stay."""
        if not self.integrity_failures or self._principal is None:
            return
        principal = self._principal
        for object_id in dict.fromkeys(self.integrity_failures):
            await append_alone(
                self.runtime.tenant_engines,
                principal.tenant,
                self.runtime.clock.now(),
                AuditEntry(
                    actor=f"user:{principal.user_id}",
                    action="security.integrity_failure",
                    target=object_id,
                    ip=self.client.ip,
                    details={"object": object_id},
                ),
            )

    def members_loader(self, principal: Principal) -> DataLoader[uuid.UUID, RowMapping | None]:
        loader = self._loaders.get("members")
        if loader is None:
            engine = self.runtime.platform_engine

            async def load(ids: list[uuid.UUID]) -> list[RowMapping | None]:
                async with engine.connect() as conn:
                    rows = await auth_repository.account_members(conn, principal.account_id, ids)
                by_id = {row["id"]: row for row in rows}
                return [by_id.get(i) for i in ids]

            loader = DataLoader(load_fn=load)
            self._loaders["members"] = loader
        return loader
