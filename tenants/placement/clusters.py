"""Where new tenants go: the open cluster with the fewest tenants per unit of capacity.

"Load" is the number of placed, unpurged tenants divided by the cluster's capacity
weight. Not CPU or connections: a tenant's cost on a cluster is mostly fixed (its
schema's catalog entries, its share of `audora migrate`, its nightly dump, its idle
connections' share), what a new tenant will do is unknown at sign-up, and request load
evens out over thousands of tenants; a tenant count is also exact, cheap (one indexed
aggregate on the primary) and does not swing with the time of day. Clusters of other
sizes say so with their weight; a busy tenant is moved off a hot cluster with
`audora tenants move` rather than guessed at sign-up.

Clusters come from settings (`AUDORA_TENANT_CLUSTERS`); `audora migrate` records each
configured one in `platform.clusters` (OPEN, weight 1) the first time it sees it, and an
operator changes state and weight with `audora tenants cluster`.
"""

from __future__ import annotations

from sqlalchemy import Connection, FromClause, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from audora.platform.config import Settings
from audora.platform.db.tenant_engines import PRIMARY, TenantEngines, cluster_urls, urls_setting
from audora.platform.errors import AppError, ErrorCode
from audora.tenants.registry.tables import accounts, clusters, tenant_placements

OPEN = "OPEN"
STATES = ("OPEN", "DRAINING", "CLOSED")


class NoOpenCluster(AppError):
    def __init__(self) -> None:
        super().__init__("no open cluster can take a new tenant", code=ErrorCode.INTERNAL)


def _clusters_with_tenants() -> FromClause:
    """Each cluster joined to its placed, unpurged tenants (none: one row of NULLs)."""
    return clusters.outerjoin(
        tenant_placements, tenant_placements.c.cluster == clusters.c.name
    ).outerjoin(
        accounts,
        (accounts.c.id == tenant_placements.c.account_id) & (accounts.c.status != "PURGED"),
    )


async def choose_cluster(engines: TenantEngines) -> str:
    """The open configured cluster with the least load; ties go to the name first in
    order, so the choice is stable. With one cluster there is nothing to choose."""
    if engines.names == [PRIMARY]:
        return PRIMARY
    query = (
        select(clusters.c.name, clusters.c.capacity_weight, func.count(accounts.c.id))
        .select_from(_clusters_with_tenants())
        .where(clusters.c.name.in_(engines.names), clusters.c.state == OPEN)
        .group_by(clusters.c.name, clusters.c.capacity_weight)
    )
    async with engines.provisioner(PRIMARY).connect() as conn:
        rows = (await conn.execute(query)).all()
    if not rows:
        raise NoOpenCluster()
    best = min(rows, key=lambda r: (r[2] / r[1], r[0]))
    return str(best[0])


def record_clusters(conn: Connection, settings: Settings) -> None:
    """Run by `audora migrate`: every configured cluster has its row (new ones OPEN,
    weight 1); rows are never removed here, since tenants may still be placed on them."""
    for name in cluster_urls(settings):
        conn.execute(
            pg_insert(clusters)
            .values(name=name, urls_setting=urls_setting(name))
            .on_conflict_do_nothing(index_elements=[clusters.c.name])
        )


async def set_cluster(
    engines: TenantEngines, name: str, *, state: str | None, weight: int | None
) -> None:
    """An operator's change to a cluster's state or capacity weight."""
    values: dict[str, object] = {}
    if state is not None:
        if state.upper() not in STATES:
            raise AppError(
                f"state must be one of {', '.join(STATES)}", code=ErrorCode.BAD_USER_INPUT
            )
        values["state"] = state.upper()
    if weight is not None:
        if weight < 1:
            raise AppError("the weight must be at least 1", code=ErrorCode.BAD_USER_INPUT)
        values["capacity_weight"] = weight
    if not values:
        raise AppError("nothing to change: give --state or --weight", code=ErrorCode.BAD_USER_INPUT)
    async with engines.provisioner(PRIMARY).begin() as conn:
        changed = await conn.execute(update(clusters).where(clusters.c.name == name).values(values))
    if changed.rowcount != 1:
        raise AppError(f"no cluster named {name!r}", code=ErrorCode.NOT_FOUND)


async def cluster_loads(engines: TenantEngines) -> list[tuple[str, str, int, int]]:
    """(name, state, weight, tenants) of every recorded cluster, for `tenants clusters`."""
    query = (
        select(
            clusters.c.name,
            clusters.c.state,
            clusters.c.capacity_weight,
            func.count(accounts.c.id),
        )
        .select_from(_clusters_with_tenants())
        .group_by(clusters.c.name, clusters.c.state, clusters.c.capacity_weight)
        .order_by(clusters.c.name)
    )
    async with engines.provisioner(PRIMARY).connect() as conn:
        return [(r[0], r[1], int(r[2]), int(r[3])) for r in await conn.execute(query)]
