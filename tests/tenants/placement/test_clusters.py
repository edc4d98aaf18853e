"""Beyond one machine: every tenant is placed on a cluster, new tenants by load (tenants
per unit of capacity among open clusters), and a tenant on a second cluster works end to
end through GraphQL while the platform rows stay on the primary."""

from __future__ import annotations

from typing import Any

from conftest import SECOND
from placement_testing import only_open, placement_of, role_on, schema_on
from sqlalchemy import Engine, text

from audora.platform.config import Settings
from audora.platform.db.tenant_engines import PRIMARY
from audora.platform.runtime import Runtime
from audora.tenants.access_log.jobs import access_log_expiry_job
from audora.tenants.backups.drill import restore_drill
from audora.tenants.backups.service import backup_tenant
from audora.tenants.lifecycle.purge import purge_account
from audora.tenants.placement.clusters import cluster_loads, set_cluster

from audora_testing import GraphQL, create_call, create_profile, raw_id, schema_of, sign_up


async def _expected(runtime: Runtime) -> str:
    """The rule, computed from the recorded loads: the open cluster with the fewest
    tenants per unit of capacity weight, ties to the first name."""
    loads = [row for row in await cluster_loads(runtime.tenant_engines) if row[1] == "OPEN"]
    return min(loads, key=lambda row: (row[3] / row[2], row[0]))[0]


async def _placed(gql: GraphQL, runtime: Runtime) -> str:
    owner = await sign_up(gql, "Placed Studio")
    return await placement_of(runtime, raw_id(owner["account"]["id"]))


async def test_new_tenants_are_placed_on_the_open_cluster_with_the_least_load(
    placed_gql: GraphQL, placed_runtime: Runtime
) -> None:
    engines = placed_runtime.tenant_engines
    try:
        # Each sign-up goes where the rule says, whatever the two loads are now.
        for _ in range(2):
            expected = await _expected(placed_runtime)
            assert await _placed(placed_gql, placed_runtime) == expected
        # A bigger primary (capacity weight above its tenant count) is the less loaded.
        primary_tenants = next(r[3] for r in await cluster_loads(engines) if r[0] == PRIMARY)
        await set_cluster(engines, PRIMARY, state=None, weight=primary_tenants + 1_000)
        assert await _placed(placed_gql, placed_runtime) == PRIMARY
        # Weighed the other way round, the second cluster is.
        await set_cluster(engines, PRIMARY, state=None, weight=1)
        await set_cluster(engines, SECOND, state=None, weight=1_000_000)
        assert await _placed(placed_gql, placed_runtime) == SECOND
        # A draining cluster takes no new tenant, however light.
        await set_cluster(engines, SECOND, state="DRAINING", weight=None)
        assert await _placed(placed_gql, placed_runtime) == PRIMARY
    finally:
        await set_cluster(engines, PRIMARY, state="OPEN", weight=1)
        await set_cluster(engines, SECOND, state="OPEN", weight=1)


async def test_every_existing_tenant_is_placed_on_the_primary_by_the_migration(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql)
    assert await placement_of(runtime, raw_id(owner["account"]["id"])) == PRIMARY
    with superuser.connect() as conn:
        unplaced = conn.execute(
            text(
                "SELECT count(*) FROM platform.accounts a LEFT JOIN platform.tenant_placements"
                " p ON p.account_id = a.id WHERE p.account_id IS NULL"
            )
        ).scalar_one()
    assert unplaced == 0


PROFILES = "query { clientProfiles { id name } }"
CALL = "query($id: ID!) { call(id: $id) { id title clientProfileId } }"


async def test_a_tenant_on_a_second_cluster_works_end_to_end_through_graphql(
    placed_gql: GraphQL,
    placed_runtime: Runtime,
    placed_settings: Settings,
    superuser: Engine,
) -> None:
    async with only_open(placed_runtime, SECOND):
        owner = await sign_up(placed_gql, "Far Away Studio")
    token = owner["token"]
    account_id = raw_id(owner["account"]["id"])
    assert await placement_of(placed_runtime, account_id) == SECOND
    # Its schema is on the second cluster only; its users and sessions on the primary.
    schema = schema_of(owner["account"]["id"])
    assert schema_on(placed_settings.tenant_clusters[SECOND].database_url, schema)
    assert not schema_on(placed_settings.database_url, schema)
    with superuser.connect() as conn:
        sessions = conn.execute(
            text("SELECT count(*) FROM platform.sessions WHERE account_id = :a"),
            {"a": account_id},
        ).scalar_one()
    assert sessions == 1

    profile = await create_profile(placed_gql, token, "Northwind")
    call_id = await create_call(placed_gql, token, profile["id"], "Discovery")
    profiles: dict[str, Any] = await placed_gql(PROFILES, token=token)
    assert profiles["data"]["clientProfiles"] == [{"id": profile["id"], "name": "Northwind"}]
    call: dict[str, Any] = await placed_gql(CALL, {"id": call_id}, token=token)
    assert call["data"]["call"] == {
        "id": call_id,
        "title": "Discovery",
        "clientProfileId": profile["id"],
    }


async def test_backups_drills_and_access_log_expiry_of_a_tenant_follow_its_placement(
    placed_gql: GraphQL, placed_runtime: Runtime, placed_settings: Settings
) -> None:
    async with only_open(placed_runtime, SECOND):
        owner = await sign_up(placed_gql, "Backed Up Far Away")
    await create_profile(placed_gql, owner["token"], "Dumped Ltd")
    tenant = raw_id(owner["account"]["id"])
    # pg_dump reads the tenant's schema on its own cluster, as that cluster's provisioner.
    taken = await backup_tenant(placed_runtime, tenant)
    assert taken.row_counts["client_profiles"] == 1
    # The drill restores it beside the tenant, on the second cluster, and checks it.
    drill = await restore_drill(placed_runtime, tenant)
    assert drill.ok, drill.details
    # The access log's expiry runs as the second cluster's provisioner.
    done = await access_log_expiry_job({"runtime": placed_runtime}, str(tenant))
    assert done["expired"] == 0
    assert not schema_on(placed_settings.database_url, schema_of(owner["account"]["id"]))


CLOSE = "mutation($c: String!) { closeAccount(confirm: $c) { status } }"


async def test_a_purge_drops_the_schema_and_role_on_the_tenants_own_cluster(
    placed_gql: GraphQL, placed_runtime: Runtime, placed_settings: Settings
) -> None:
    async with only_open(placed_runtime, SECOND):
        owner = await sign_up(placed_gql, "Short Lived Far Away")
    closed = await placed_gql(CLOSE, {"c": "Short Lived Far Away"}, token=owner["token"])
    assert closed["data"]["closeAccount"]["status"] == "CLOSED", closed
    await purge_account(placed_runtime, raw_id(owner["account"]["id"]), before_grace_ends=True)
    second = placed_settings.tenant_clusters[SECOND].database_url
    schema = schema_of(owner["account"]["id"])
    assert not schema_on(second, schema)
    assert not role_on(second, schema)
