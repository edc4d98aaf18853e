"""A2: each account is a fully isolated tenant; its data is never visible to another.

Every test here tries to cross the line and shows where it is stopped: by the tenant's
own role and schema in PostgreSQL, by the storage identity in the object store, and by
the gateway taking the tenant from the session only.
"""

from __future__ import annotations

import re
import token
import tokenize
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from audora.platform.auth.service import ClientInfo
from audora.platform.config import Settings
from audora.platform.db.roles import APP_ROLE, GATEWAY_ROLE
from audora.platform.db.statement_guard import ForbiddenStatement
from audora.platform.db.tenant_binding import TenantRef, search_path, tenant_transaction
from audora.platform.db.tenant_engines import PRIMARY, TenantEngines
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.runtime import Runtime
from audora.schema.context import RequestContext

from audora_testing import (
    TEST_AGENT,
    TEST_IP,
    GraphQL,
    create_profile,
    error_codes,
    schema_of,
    sign_up,
)

REPO = Path(__file__).resolve().parents[3]

PROFILE = "query($id: ID!) { clientProfile(id: $id) { id name } }"


@pytest.fixture(scope="module")
async def two_tenants(gql: GraphQL) -> tuple[dict[str, Any], dict[str, Any]]:
    a = await sign_up(gql, "Tenant A Studio")
    b = await sign_up(gql, "Tenant B Agency")
    a["profile"] = await create_profile(gql, a["token"], "A's client", budget="40k EUR")
    b["profile"] = await create_profile(gql, b["token"], "B's client", budget="90k USD")
    return a, b


def test_two_sign_ups_give_two_schemas_two_roles_and_two_buckets(
    two_tenants: tuple[dict[str, Any], dict[str, Any]], superuser: Engine, runtime: Runtime
) -> None:
    a, b = two_tenants
    schemas = [schema_of(a["account"]["id"]), schema_of(b["account"]["id"])]
    with superuser.connect() as conn:
        found = conn.execute(
            text(
                "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace "
                "WHERE nspname = ANY(:s)"
            ),
            {"s": schemas},
        ).all()
        roles = conn.execute(
            text("SELECT rolname, rolcanlogin, rolinherit FROM pg_roles WHERE rolname = ANY(:s)"),
            {"s": schemas},
        ).all()
        buckets = (
            conn.execute(
                text("SELECT bucket FROM platform.accounts WHERE schema_name = ANY(:s)"),
                {"s": schemas},
            )
            .scalars()
            .all()
        )
    assert sorted(name for name, _ in found) == sorted(schemas)
    # Tenant roles exist, one each, and nobody can log in as one.
    assert sorted(roles) == sorted((s, False, False) for s in schemas)
    assert len(set(buckets)) == 2
    assert set(buckets) <= set(runtime.storage.tenant_buckets())


async def test_a_tenants_storage_keys_reach_its_own_bucket_only(
    two_tenants: tuple[dict[str, Any], dict[str, Any]], superuser: Engine, runtime: Runtime
) -> None:
    a, b = two_tenants
    ids_ = [uuid.UUID(hex=t["account"]["id"][4:]) for t in (a, b)]
    with superuser.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT secret_key, secret_sealed FROM platform.tenant_storage_identities "
                "WHERE account_id = ANY(:ids)"
            ),
            {"ids": ids_},
        ).all()
    # The secrets are sealed under each tenant's own key, never stored in the clear.
    assert [(plain, sealed is not None) for plain, sealed in stored] == [(None, True)] * 2
    bucket_a, bucket_b = [await runtime.buckets.of(i) for i in ids_]
    client_a, client_b = bucket_a.client, bucket_b.client
    bucket_a, bucket_b = bucket_a.bucket, bucket_b.bucket
    client_a.put_object(Bucket=bucket_a, Key="a.txt", Body=b"A only")
    assert client_a.get_object(Bucket=bucket_a, Key="a.txt")["Body"].read() == b"A only"
    client_b.put_object(Bucket=bucket_b, Key="b.txt", Body=b"B only")
    for attempt in (
        lambda: client_a.get_object(Bucket=bucket_b, Key="b.txt"),
        lambda: client_a.list_objects_v2(Bucket=bucket_b),
        lambda: client_a.put_object(Bucket=bucket_b, Key="planted", Body=b"x"),
        lambda: client_b.get_object(Bucket=bucket_a, Key="a.txt"),
        lambda: client_b.delete_object(Bucket=bucket_a, Key="a.txt"),
    ):
        with pytest.raises(ClientError) as refused:
            attempt()
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert client_a.get_object(Bucket=bucket_a, Key="a.txt")["Body"].read() == b"A only"


async def test_tenant_a_cannot_read_b_profile_by_id_and_gets_not_found(
    two_tenants: tuple[dict[str, Any], dict[str, Any]], gql: GraphQL
) -> None:
    a, b = two_tenants
    crossing = await gql(PROFILE, {"id": b["profile"]["id"]}, token=a["token"])
    missing = await gql(PROFILE, {"id": "cli_" + "0" * 32}, token=a["token"])
    assert error_codes(crossing) == error_codes(missing) == ["NOT_FOUND"]
    assert crossing["errors"][0]["message"] == missing["errors"][0]["message"]
    own = await gql(PROFILE, {"id": a["profile"]["id"]}, token=a["token"])
    assert own["data"]["clientProfile"]["name"] == "A's client"


async def test_tenant_a_cannot_update_b_profile(
    two_tenants: tuple[dict[str, Any], dict[str, Any]], gql: GraphQL
) -> None:
    a, b = two_tenants
    result = await gql(
        "mutation($i: UpdateClientProfileInput!) { updateClientProfile(input: $i) { id } }",
        {"i": {"id": b["profile"]["id"], "name": "hijacked"}},
        token=a["token"],
    )
    assert error_codes(result) == ["NOT_FOUND"]
    still = await gql(PROFILE, {"id": b["profile"]["id"]}, token=b["token"])
    assert still["data"]["clientProfile"]["name"] == "B's client"


async def test_lists_show_only_the_callers_own_profiles(
    two_tenants: tuple[dict[str, Any], dict[str, Any]], gql: GraphQL
) -> None:
    a, b = two_tenants
    listed = await gql("{ clientProfiles { id name } }", token=a["token"])
    assert [p["name"] for p in listed["data"]["clientProfiles"]] == ["A's client"]
    listed = await gql("{ clientProfiles { id name } }", token=b["token"])
    assert [p["name"] for p in listed["data"]["clientProfiles"]] == ["B's client"]


async def _context_for(runtime: Runtime, token: str) -> RequestContext:
    # The client the tokens were issued to (the `api` fixture's): sessions are bound to it.
    client = ClientInfo(TEST_IP, TEST_AGENT)
    return RequestContext(runtime=runtime, client=client, token=token)


async def test_raw_sql_inside_a_resolvers_binding_cannot_reach_another_schema(
    two_tenants: tuple[dict[str, Any], dict[str, Any]], runtime: Runtime
) -> None:
    a, b = two_tenants
    other = schema_of(b["account"]["id"])
    context = await _context_for(runtime, a["token"])
    try:
        uow = await context.tenant_uow()
        own = await uow.execute(text("SELECT name FROM client_profiles"))
        assert own.scalars().all() == ["A's client"]
        with pytest.raises(DBAPIError, match="permission denied for schema"):
            await uow.execute(text(f"SELECT name FROM {other}.client_profiles"))
    finally:
        await context.finish(success=False)


@pytest.mark.parametrize(
    "statement",
    [
        "SET ROLE {other}",
        "SET LOCAL ROLE {other}",
        "RESET ROLE",
        "SET search_path = {other}",
        "set local search_path to {other}",
        "SELECT set_config('role', '{other}', true)",
        "SELECT set_config( 'search_path', '{other}', false)",
        "SET SESSION AUTHORIZATION postgres",
        # Ways around a pattern match; PostgreSQL's own parser sees through them.
        'SET "role" TO {other}',
        "SET/**/ROLE {other}",
        "SELECT set_config(E'role', '{other}', true)",
        "SELECT set_config(:k, :v, true)",
        "COMMIT",
        "END",
        "ROLLBACK",
        "DO $$ BEGIN EXECUTE 'SET ROLE {other}'; END $$",
        "SELECT query_to_xml('SELECT * FROM {other}.client_profiles', true, true, '')",
        "SELECT 1; SET ROLE {other}",
    ],
)
async def test_a_resolver_cannot_switch_role_or_search_path(
    two_tenants: tuple[dict[str, Any], dict[str, Any]], runtime: Runtime, statement: str
) -> None:
    a, b = two_tenants
    context = await _context_for(runtime, a["token"])
    try:
        uow = await context.tenant_uow()
        other = schema_of(b["account"]["id"])
        with pytest.raises(ForbiddenStatement):
            await uow.execute(text(statement.replace("{other}", other)), {"k": "role", "v": other})
        # Still bound to A, and still in one piece.
        who = await uow.execute(text("SELECT current_user"))
        assert who.scalar() == schema_of(a["account"]["id"])
    finally:
        await context.finish(success=False)


async def test_an_unbound_query_sees_no_tenant_table(
    two_tenants: tuple[dict[str, Any], dict[str, Any]], runtime: Runtime, superuser: Engine
) -> None:
    a, _ = two_tenants
    schema = schema_of(a["account"]["id"])
    async with runtime.tenant_engines.gateway(PRIMARY).connect() as conn:
        with pytest.raises(DBAPIError, match="permission denied for schema"):
            await conn.execute(text(f"SELECT * FROM {schema}.client_profiles"))
        await conn.rollback()
        with pytest.raises(DBAPIError, match='relation "client_profiles" does not exist'):
            await conn.execute(text("SELECT * FROM client_profiles"))
    # NOINHERIT: membership alone confers none of the tenant's privileges.
    with superuser.connect() as conn:
        allowed = conn.execute(
            text("SELECT has_table_privilege(:r, :t, 'SELECT')"),
            {"r": GATEWAY_ROLE, "t": f"{schema}.client_profiles"},
        )
        assert allowed.scalar() is False


async def test_the_binding_ends_with_its_transaction(
    two_tenants: tuple[dict[str, Any], dict[str, Any]], settings: Settings, runtime: Runtime
) -> None:
    a, _ = two_tenants
    # A pool of one connection: the next user gets the very connection A's binding used.
    engines = TenantEngines(
        settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0}),
        runtime.platform_engine,
    )
    engine = engines.gateway(PRIMARY)
    tenant = TenantRef(validate_tenant_schema(schema_of(a["account"]["id"])))
    try:
        async with tenant_transaction(engines, tenant) as uow:
            bound = await uow.execute(text("SELECT current_user, current_setting('search_path')"))
            assert tuple(bound.one()) == (tenant.schema, search_path(tenant.schema))
            await uow.commit()
        async with engine.connect() as conn:
            after = await conn.execute(text("SELECT current_user, current_setting('search_path')"))
            user, path = after.one()
        assert user == GATEWAY_ROLE
        assert tenant.schema not in path
    finally:
        await engines.close()


async def test_no_temporary_table_can_shadow_a_tenant_table(
    two_tenants: tuple[dict[str, Any], dict[str, Any]], runtime: Runtime
) -> None:
    a, _ = two_tenants
    context = await _context_for(runtime, a["token"])
    try:
        uow = await context.tenant_uow()
        with pytest.raises(DBAPIError, match="permission denied to create temporary tables"):
            await uow.execute(text("CREATE TEMP TABLE client_profiles (id uuid)"))
    finally:
        await context.finish(success=False)


@pytest.mark.parametrize("role", [APP_ROLE, GATEWAY_ROLE])
def test_the_login_roles_cannot_create_roles_schemas_or_temporary_tables(
    superuser: Engine, role: str
) -> None:
    with superuser.connect() as conn:
        row = conn.execute(
            text(
                "SELECT rolinherit, rolcreaterole, rolcreatedb, rolsuper FROM pg_roles "
                "WHERE rolname = :r"
            ),
            {"r": role},
        ).one()
        can = conn.execute(
            text(
                "SELECT has_database_privilege(:r, current_database(), 'CREATE'), "
                "has_database_privilege(:r, current_database(), 'TEMPORARY')"
            ),
            {"r": role},
        ).one()
    assert tuple(row) == (False, False, False, False)
    assert tuple(can) == (False, False)


def test_only_the_gateway_can_switch_to_a_tenant_role(
    two_tenants: tuple[dict[str, Any], dict[str, Any]], superuser: Engine
) -> None:
    a, _ = two_tenants
    with superuser.connect() as conn:
        members = conn.execute(
            text(
                "SELECT pg_get_userbyid(member), set_option, inherit_option "
                "FROM pg_auth_members WHERE roleid = to_regrole(:r) "
                "AND (set_option OR inherit_option)"
            ),
            {"r": schema_of(a["account"]["id"])},
        ).all()
    # The role maker that created the role administers it, but nobody can become it.
    assert [tuple(m) for m in members] == [(GATEWAY_ROLE, True, False)]


async def test_the_tenant_pool_reads_no_platform_row_bound_or_not(
    two_tenants: tuple[dict[str, Any], dict[str, Any]], runtime: Runtime
) -> None:
    """Even a connection that somehow left its binding finds no session, password hash
    or storage key to read: the gateway role has nothing in the platform schema."""
    a, _ = two_tenants
    async with runtime.tenant_engines.gateway(PRIMARY).connect() as conn:
        with pytest.raises(DBAPIError, match="permission denied for schema platform"):
            await conn.execute(text("SELECT secret_key FROM platform.tenant_storage_identities"))
    context = await _context_for(runtime, a["token"])
    try:
        uow = await context.tenant_uow()
        with pytest.raises(DBAPIError, match="permission denied for schema platform"):
            await uow.execute(text("SELECT password_hash FROM platform.users"))
    finally:
        await context.finish(success=False)


_ROLE_CHANGE = re.compile(
    r"(SET|RESET)\s+(LOCAL\s+|SESSION\s+)?(ROLE|search_path)|set_config\(\s*'(role|search_path)",
    re.IGNORECASE,
)


def _string_literals(path: Path) -> list[str]:
    """SQL lives in string literals; comments may talk about SET ROLE freely."""
    with path.open("rb") as source:
        return [t.string for t in tokenize.tokenize(source.readline) if t.type == token.STRING]


def test_only_the_tenant_binding_sets_role_or_search_path() -> None:
    allowed = {REPO / "platform/db/tenant_binding.py"}
    offenders = []
    for folder in ("platform", "tenants", "schema", "admin", "migrations"):
        for path in (REPO / folder).rglob("*.py"):
            if path in allowed:
                continue
            if any(_ROLE_CHANGE.search(literal) for literal in _string_literals(path)):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_the_lint_itself_catches_a_role_change(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text('QUERY = "SELECT 1; SET LOCAL ROLE t_x"  # a resolver being clever\n')
    assert any(_ROLE_CHANGE.search(s) for s in _string_literals(sneaky))
