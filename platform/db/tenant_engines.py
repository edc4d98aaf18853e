"""Which PostgreSQL cluster a tenant is on, and the engines that reach each cluster.

Tenant schemas may live on several clusters (docs/scaling.md); the platform schema
(users, sessions, the registry, staff) lives on "primary" only. `TenantEngines` is the
only way to a tenant's data: `tenant_transaction` takes it, never a bare engine, and
resolves the tenant's cluster itself, so no caller can bind a tenant on the wrong
cluster by forgetting to look it up.

The placement is read from `platform.tenant_placements` once and remembered in a small
LRU (bounded: memory stays flat whatever the number of tenants). With one cluster
configured there is nothing to look up. A remembered placement can go stale when another
process moves the tenant; the binding then notices, at no extra round trip, that the
tenant's schema is not on the cluster it reached (`tenant_binding`), and this process
forgets the placement and reads it again. A move holds writers off the source from
before its copy until the source schema is dropped, so a stale process can never write
to the old copy (tenants/placement/move.py).

Each cluster's pools are created on first use, with the same bounds as the primary's.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.config import ClusterUrls, Settings
from audora.platform.db.engines import app_engine, cluster_engine
from audora.platform.db.tenant_names import TenantSchema
from audora.tenants.registry.tables import tenant_placements

PRIMARY = "primary"


class UnknownCluster(LookupError):
    """A cluster name no setting gives URLs for."""


class NotPlaced(LookupError):
    """A tenant without a placement row: no such tenant (or one already purged)."""


def cluster_urls(settings: Settings) -> dict[str, ClusterUrls]:
    """Every configured cluster's URLs, "primary" first."""
    primary = ClusterUrls(
        database_url=settings.database_url,
        gateway_database_url=settings.gateway_database_url,
        provisioner_database_url=settings.provisioner_database_url,
    )
    return {PRIMARY: primary, **settings.tenant_clusters}


def urls_setting(name: str) -> str:
    """Where a cluster's URLs are configured, as recorded in `platform.clusters`."""
    return "AUDORA_*_DATABASE_URL" if name == PRIMARY else f"AUDORA_TENANT_CLUSTERS.{name}"


def account_of(schema: TenantSchema) -> uuid.UUID:
    """The account id a (validated) tenant schema name is made from."""
    return uuid.UUID(schema.removeprefix("t_"))


class TenantEngines:
    """The tenant pools (gateway role) and provisioner pools of every cluster, and the
    placement of each tenant on them."""

    def __init__(self, settings: Settings, platform_engine: AsyncEngine) -> None:
        self.settings = settings
        self.urls = cluster_urls(settings)
        self._platform = platform_engine
        self._gateway: dict[str, AsyncEngine] = {}
        self._provisioner: dict[str, AsyncEngine] = {}
        self._placed: OrderedDict[TenantSchema, str] = OrderedDict()

    @property
    def names(self) -> list[str]:
        return list(self.urls)

    def _urls(self, cluster: str) -> ClusterUrls:
        try:
            return self.urls[cluster]
        except KeyError:
            raise UnknownCluster(f"no URLs are configured for cluster {cluster!r}") from None

    def gateway(self, cluster: str) -> AsyncEngine:
        """The tenant pool of `cluster`: only `tenant_transaction` binds on it."""
        if cluster not in self._gateway:
            if cluster == PRIMARY:
                self._gateway[cluster] = app_engine(self.settings)
            else:
                url = self._urls(cluster).gateway_database_url
                self._gateway[cluster] = cluster_engine(self.settings, url)
        return self._gateway[cluster]

    def provisioner(self, cluster: str) -> AsyncEngine:
        """The schema owner's pool on `cluster` (on "primary" it also writes platform
        rows: provisioning, purge)."""
        if cluster not in self._provisioner:
            url = self._urls(cluster).provisioner_database_url
            self._provisioner[cluster] = cluster_engine(self.settings, url, small=True)
        return self._provisioner[cluster]

    async def cluster_of(self, schema: TenantSchema) -> str:
        """The cluster `schema` lives on. Raises NotPlaced for a tenant with no row."""
        if len(self.urls) == 1:
            return PRIMARY
        cached = self._placed.get(schema)
        if cached is not None:
            self._placed.move_to_end(schema)
            return cached
        async with self._platform.connect() as conn:
            found: str | None = (
                await conn.execute(
                    select(tenant_placements.c.cluster).where(
                        tenant_placements.c.account_id == account_of(schema)
                    )
                )
            ).scalar_one_or_none()
        if found is None:
            raise NotPlaced(f"tenant {schema} has no placement")
        self._placed[schema] = found
        while len(self._placed) > self.settings.placement_cache_size:
            self._placed.popitem(last=False)
        return found

    def forget(self, schema: TenantSchema) -> None:
        """Read the tenant's placement again next time (it moved, or may have)."""
        self._placed.pop(schema, None)

    async def gateway_for(self, schema: TenantSchema) -> AsyncEngine:
        return self.gateway(await self.cluster_of(schema))

    async def provisioner_for(self, schema: TenantSchema) -> AsyncEngine:
        return self.provisioner(await self.cluster_of(schema))

    async def urls_for(self, schema: TenantSchema) -> ClusterUrls:
        return self._urls(await self.cluster_of(schema))

    async def close(self) -> None:
        for engine in (*self._gateway.values(), *self._provisioner.values()):
            await engine.dispose()
        self._gateway.clear()
        self._provisioner.clear()
