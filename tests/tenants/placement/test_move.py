"""`audora tenants move`: a tenant's schema goes to another cluster under a short
read-only window (writes refused with the read-only code, reads served), is verified
before its placement switches, and its source is dropped; a move that fails verification
leaves the tenant on its source, readable and writable, its placement unchanged."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from conftest import SECOND
from documents_testing import ready_call
from placement_testing import only_open, placement_of, role_on, schema_on
from sqlalchemy import Engine, create_engine, text

from audora.platform.config import Settings
from audora.platform.db.tenant_binding import TenantRef
from audora.platform.db.tenant_engines import PRIMARY
from audora.platform.db.tenant_names import TenantSchema
from audora.platform.runtime import Runtime
from audora.tenants.access_log.log import AccessEntry, write
from audora.tenants.placement import move
from audora.tenants.placement.move import MoveFailed, move_tenant

from audora_testing import (
    GraphQL,
    create_call,
    create_profile,
    error_codes,
    raw_id,
    run_audora,
    schema_of,
    sign_up,
    upload_path,
)

READ = """
query($id: ID!) {
  clientProfiles { id name }
  call(id: $id) { title status transcript { text } documents { kind title markdown version } }
}
"""


async def _read(gql: GraphQL, owner: dict[str, Any]) -> dict[str, Any]:
    result = await gql(READ, {"id": owner["call_id"]}, token=owner["token"])
    assert "errors" not in result, result
    data: dict[str, Any] = result["data"]
    return data


async def _no_pg_dump(*args: Any) -> None:
    raise AssertionError("the move ran pg_dump")


def _count(url: str, query: str) -> int:
    engine: Engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


def _privileges(url: str, schema: str) -> dict[str, Any]:
    """Who may do what in the schema: its tables' grants, the schema's own ACL and the
    default privileges new tables get."""
    engine: Engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                "tables": conn.execute(
                    text(
                        "SELECT table_name, grantee, privilege_type "
                        "FROM information_schema.table_privileges "
                        "WHERE table_schema = :s ORDER BY 1, 2, 3"
                    ),
                    {"s": schema},
                ).all(),
                "schema": conn.execute(
                    text("SELECT nspacl::text FROM pg_namespace WHERE nspname = :s"), {"s": schema}
                ).scalar_one(),
                "defaults": conn.execute(
                    text(
                        "SELECT d.defaclobjtype, d.defaclacl::text FROM pg_default_acl d "
                        "JOIN pg_namespace n ON n.oid = d.defaclnamespace WHERE n.nspname = :s"
                    ),
                    {"s": schema},
                ).all(),
            }
    finally:
        engine.dispose()


async def test_a_moved_tenant_reads_the_same_data_on_its_new_cluster_after_a_read_only_window(
    placed_gql: GraphQL,
    placed_runtime: Runtime,
    placed_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with only_open(placed_runtime, PRIMARY):
        owner = await ready_call(placed_gql, placed_runtime, "Moving Studio")
    account_id = raw_id(owner["account"]["id"])
    schema = schema_of(owner["account"]["id"])
    before = await _read(placed_gql, owner)
    assert before["call"]["transcript"]["text"]
    assert len(before["call"]["documents"]) == 4

    # An upload URL handed out before the window.
    new_call = await create_call(placed_gql, owner["token"], owner["profile_id"], "Late upload")
    upload = await upload_path(placed_gql, owner["token"], new_call)
    during: dict[str, Any] = {}
    fence = move._fence

    async def window_then_fence(conn: Any, fenced: TenantSchema) -> None:
        # The window is open: a write is refused with the read-only code, in words of
        # its own; a read is served.
        during["write"] = await placed_gql(
            "mutation($input: CreateClientProfileInput!) {"
            " createClientProfile(input: $input) { id } }",
            {"input": {"name": "Refused Ltd"}},
            token=owner["token"],
        )
        during["read"] = await _read(placed_gql, owner)
        during["upload"] = await placed_gql.client.put(
            upload, content=b"OggS" + bytes(64), headers={"content-type": "audio/ogg"}
        )
        await fence(conn, fenced)
        # Fenced: a write (a request's access-log row) waits for the move to end, then
        # lands on the new cluster.
        during["waiting"] = asyncio.create_task(
            write(
                placed_runtime.tenant_engines,
                TenantRef(fenced),
                AccessEntry(
                    at=placed_runtime.clock.now(),
                    account_id=account_id,
                    user_id=raw_id(owner["user"]["id"]),
                    session_id=uuid.uuid4(),
                    ip=None,
                    user_agent=None,
                    operation_type="query",
                    operation_name="DuringTheMove",
                    outcome="ok",
                ),
            )
        )
        await asyncio.sleep(0)  # a yield, not a wait: the write starts and blocks

    monkeypatch.setattr(move, "_fence", window_then_fence)
    # At the head, the schema is copied from its rows: no pg_dump reading the catalog.
    monkeypatch.setattr(move, "_dump_and_restore", _no_pg_dump)
    granted = _privileges(placed_settings.database_url, schema)
    assert granted["tables"]
    assert granted["defaults"]
    steps: list[str] = []
    moved = await move_tenant(placed_runtime, account_id, SECOND, on_step=steps.append)

    assert error_codes(during["write"]) == ["FORBIDDEN"]
    message = during["write"]["errors"][0]["message"]
    assert "moves to another database server" in message
    assert "suspended" not in message
    assert during["read"] == before
    assert during["upload"].status_code == 403
    assert "moves to another database server" in during["upload"].text
    assert (moved.source, moved.target, moved.source_dropped) == (PRIMARY, SECOND, True)
    assert moved.tables > 0
    assert moved.rows > 0
    assert moved.version

    # Placed on the second cluster; the source schema and role are gone.
    assert await placement_of(placed_runtime, account_id) == SECOND
    assert schema_on(placed_settings.tenant_clusters[SECOND].database_url, schema)
    assert not schema_on(placed_settings.database_url, schema)
    assert not role_on(placed_settings.database_url, schema)
    assert _privileges(placed_settings.tenant_clusters[SECOND].database_url, schema) == granted
    await during["waiting"]
    assert (
        _count(
            placed_settings.tenant_clusters[SECOND].database_url,
            f"SELECT count(*) FROM {schema}.access_log WHERE operation_name = 'DuringTheMove'",
        )
        == 1
    )
    # The API process still remembered the old cluster: its binding found no schema
    # there, read the placement again, and serves the same data from the new one.
    assert await _read(placed_gql, owner) == before
    # And the window is over: writes go through again.
    await create_profile(placed_gql, owner["token"], "After Move Ltd")


async def test_a_move_that_fails_verification_leaves_the_tenant_on_its_source(
    placed_gql: GraphQL,
    placed_runtime: Runtime,
    placed_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with only_open(placed_runtime, PRIMARY):
        owner = await sign_up(placed_gql, "Unlucky Studio")
    token = owner["token"]
    await create_profile(placed_gql, token, "Kept Ltd")
    account_id = raw_id(owner["account"]["id"])
    schema = schema_of(owner["account"]["id"])
    target_url = placed_settings.tenant_clusters[SECOND].database_url
    restore: Callable[..., Awaitable[None]] = move._restore

    async def restore_then_lose_a_row(*args: Any) -> None:
        await restore(*args)
        engine = create_engine(target_url)
        try:
            with engine.begin() as conn:
                conn.execute(text(f"DELETE FROM {schema}.client_profiles"))
        finally:
            engine.dispose()

    monkeypatch.setattr(move, "_restore", restore_then_lose_a_row)
    with pytest.raises(MoveFailed, match="client_profiles"):
        await move_tenant(placed_runtime, account_id, SECOND)

    assert await placement_of(placed_runtime, account_id) == PRIMARY
    assert schema_on(placed_settings.database_url, schema)
    assert not schema_on(target_url, schema)
    assert not role_on(target_url, schema)
    # Readable and writable on its source: the window closed with the failure.
    profiles = await placed_gql("query { clientProfiles { name } }", token=token)
    assert profiles["data"]["clientProfiles"] == [{"name": "Kept Ltd"}]
    await create_profile(placed_gql, token, "Still Writable Ltd")


async def test_the_operator_moves_a_tenant_with_the_cli_and_sees_the_clusters(
    placed_gql: GraphQL,
    placed_runtime: Runtime,
    placed_settings: Settings,
    stack_env: dict[str, str],
) -> None:
    async with only_open(placed_runtime, SECOND):
        owner = await sign_up(placed_gql, "Homebound Studio")
    await create_profile(placed_gql, owner["token"], "Round Trip Ltd")
    env = {
        **stack_env,
        "AUDORA_TENANT_CLUSTERS": json.dumps(
            {SECOND: placed_settings.tenant_clusters[SECOND].model_dump()}
        ),
    }
    listed = run_audora(env, "tenants", "clusters")
    assert f"{PRIMARY}  OPEN" in listed
    assert f"{SECOND}  OPEN" in listed
    out = run_audora(env, "tenants", "move", "--tenant", owner["account"]["id"], "--to", PRIMARY)
    outcome = json.loads(out)
    assert (outcome["from"], outcome["to"], outcome["source_dropped"]) == (SECOND, PRIMARY, True)
    assert await placement_of(placed_runtime, raw_id(owner["account"]["id"])) == PRIMARY
    (line,) = [
        row
        for row in run_audora(env, "tenants", "list").splitlines()
        if row.startswith(str(raw_id(owner["account"]["id"])))
    ]
    assert line.endswith(f"  {PRIMARY}")
    profiles = await placed_gql("query { clientProfiles { name } }", token=owner["token"])
    assert profiles["data"]["clientProfiles"] == [{"name": "Round Trip Ltd"}]
