"""Tenant roles are made and dropped by role makers, each holding a share of them, so
that a sign-up's role costs the same at 10,000 tenants as at 10 (`role_makers`)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from audora.platform.config import Settings
from audora.platform.db.engines import sync_engine
from audora.platform.db.role_makers import (
    MAKERS_SCHEMA,
    ROLE_MAKER_COUNT,
    create_tenant_role,
    drop_tenant_role,
    ensure_role_makers,
    maker_for,
    maker_names,
)
from audora.platform.db.roles import APP_ROLE, GATEWAY_ROLE, PROVISIONER_ROLE
from audora.platform.db.tenant_engines import PRIMARY
from audora.platform.db.tenant_names import tenant_schema, validate_tenant_schema
from audora.platform.runtime import Runtime

from audora_testing import GraphQL, schema_of, sign_up


@pytest.fixture(scope="module")
def provisioner(settings: Settings) -> Iterator[Engine]:
    engine = sync_engine(settings.provisioner_database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def app_role(settings: Settings) -> Iterator[Engine]:
    engine = sync_engine(settings.app_database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _members(superuser: Engine, role: str) -> set[tuple[str, bool, bool, bool]]:
    with superuser.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pg_get_userbyid(member), admin_option, set_option, inherit_option "
                "FROM pg_auth_members WHERE roleid = to_regrole(:r)"
            ),
            {"r": role},
        ).all()
    return {(str(m), bool(a), bool(s), bool(i)) for m, a, s, i in rows}


def _role_exists(superuser: Engine, role: str) -> bool:
    with superuser.connect() as conn:
        found = conn.execute(text("SELECT to_regrole(:r) IS NOT NULL"), {"r": role})
        return bool(found.scalar_one())


async def test_a_new_tenants_role_is_administered_by_its_maker_not_the_provisioner(
    gql: GraphQL, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Maker Share Studio")
    schema = validate_tenant_schema(schema_of(owner["account"]["id"]))
    assert _members(superuser, schema) == {
        (maker_for(schema), True, False, False),
        (GATEWAY_ROLE, False, True, False),
    }


def test_role_makers_cannot_log_in_and_nobody_can_become_one(superuser: Engine) -> None:
    with superuser.connect() as conn:
        makers = conn.execute(
            text(
                "SELECT rolname, rolcanlogin, rolinherit, rolcreaterole, rolcreatedb, "
                "rolsuper, rolbypassrls FROM pg_roles WHERE rolname = ANY(:m)"
            ),
            {"m": maker_names()},
        ).all()
        memberships = conn.execute(
            text(
                "SELECT count(*) FROM pg_auth_members WHERE roleid IN "
                "(SELECT oid FROM pg_roles WHERE rolname = ANY(:m))"
            ),
            {"m": maker_names()},
        ).scalar_one()
    assert len(makers) == ROLE_MAKER_COUNT
    assert {tuple(m[1:]) for m in makers} == {(False, False, True, False, False, False)}
    assert memberships == 0


_NOT_TENANT_ROLES = [
    "audora_app",
    "T_" + "a" * 32,
    "t_" + "a" * 32 + "x",
    "x" + "t_" + "a" * 32,
    "t_" + "a" * 32 + "\n",
    "t_0; DROP ROLE audora_gateway",
    None,
]


@pytest.mark.parametrize("action", ["make", "drop"])
def test_a_makers_function_refuses_a_name_outside_the_tenant_pattern(
    provisioner: Engine, action: str
) -> None:
    for name in _NOT_TENANT_ROLES:
        with (
            provisioner.connect() as conn,
            pytest.raises(DBAPIError, match="not a tenant role name") as refused,
        ):
            conn.execute(text(f"SELECT {MAKERS_SCHEMA}.{action}_role_00(:n)"), {"n": name})
        assert getattr(refused.value.orig, "sqlstate", None) == "22023", name


def _functions(superuser: Engine) -> list[tuple[str, str, bool, str, str]]:
    with superuser.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.proname, pg_get_userbyid(p.proowner), p.prosecdef, "
                "p.proacl::text, p.prosrc FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = :s ORDER BY p.proname"
            ),
            {"s": MAKERS_SCHEMA},
        ).all()
    return [(str(a), str(b), bool(c), str(d), str(e)) for a, b, c, d, e in rows]


def test_each_makers_functions_run_as_that_maker_and_only_the_provisioner_may_call_them(
    superuser: Engine, gql: GraphQL
) -> None:
    functions = _functions(superuser)
    assert len(functions) == 2 * ROLE_MAKER_COUNT
    for name, owner, definer, _, _ in functions:
        assert definer, name
        assert owner == "audora_role_maker_" + name.rsplit("_", 1)[1], name
    tenant = tenant_schema(uuid.uuid4())
    callers = [PROVISIONER_ROLE, APP_ROLE, GATEWAY_ROLE]
    with superuser.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {tenant} NOLOGIN")
        try:
            for caller in [*callers, tenant]:
                may_use = conn.execute(
                    text("SELECT has_schema_privilege(:r, :s, 'USAGE')"),
                    {"r": caller, "s": MAKERS_SCHEMA},
                ).scalar_one()
                may_call = conn.execute(
                    text(
                        "SELECT bool_or(has_function_privilege(:r, p.oid, 'EXECUTE')) "
                        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                        "WHERE n.nspname = :s"
                    ),
                    {"r": caller, "s": MAKERS_SCHEMA},
                ).scalar_one()
                expected = caller == PROVISIONER_ROLE
                assert (may_use, may_call) == (expected, expected), caller
        finally:
            conn.exec_driver_sql(f"DROP ROLE {tenant}")
            conn.commit()


def test_only_the_provisioner_may_call_the_makers(app_role: Engine) -> None:
    role = tenant_schema(uuid.uuid4())
    with (
        app_role.connect() as conn,
        pytest.raises(DBAPIError, match=f"permission denied for schema {MAKERS_SCHEMA}"),
    ):
        conn.execute(text(f"SELECT {MAKERS_SCHEMA}.make_role_00(:n)"), {"n": role})


async def test_one_maker_cannot_drop_another_makers_role(
    runtime: Runtime, superuser: Engine
) -> None:
    schema = tenant_schema(uuid.uuid4())
    other = next(m for m in maker_names() if m != maker_for(schema))
    async with runtime.tenant_engines.provisioner(PRIMARY).begin() as conn:
        await conn.exec_driver_sql(create_tenant_role(schema))
    try:
        with pytest.raises(DBAPIError, match="permission denied to drop role"):
            async with runtime.tenant_engines.provisioner(PRIMARY).begin() as conn:
                await conn.execute(
                    text(f"SELECT {MAKERS_SCHEMA}.drop_role_{other[-2:]}(:n)"), {"n": schema}
                )
        assert _role_exists(superuser, schema)
    finally:
        async with runtime.tenant_engines.provisioner(PRIMARY).begin() as conn:
            await drop_tenant_role(conn, schema)


def test_making_the_makers_again_changes_nothing(superuser: Engine) -> None:
    before = _functions(superuser)
    with superuser.connect() as conn:
        ensure_role_makers(conn.execution_options(isolation_level="AUTOCOMMIT"))
    assert _functions(superuser) == before


async def test_a_role_is_dropped_by_its_maker_or_by_the_provisioner_that_made_it(
    runtime: Runtime, superuser: Engine
) -> None:
    made_by_maker = tenant_schema(uuid.uuid4())
    # A role from before the makers: the provisioner made it and administers it.
    made_before = tenant_schema(uuid.uuid4())
    async with runtime.tenant_engines.provisioner(PRIMARY).begin() as conn:
        await conn.exec_driver_sql(create_tenant_role(made_by_maker))
        await conn.exec_driver_sql(f"CREATE ROLE {made_before} NOLOGIN NOINHERIT")
    assert (PROVISIONER_ROLE, True, False, False) in _members(superuser, made_before)
    async with runtime.tenant_engines.provisioner(PRIMARY).begin() as conn:
        for schema in (made_by_maker, made_before):
            await drop_tenant_role(conn, schema)
        # Dropping a role that is already gone is not an error (a purge resumed).
        await drop_tenant_role(conn, made_by_maker)
    assert not _role_exists(superuser, made_by_maker)
    assert not _role_exists(superuser, made_before)


def test_tenants_spread_evenly_over_the_makers() -> None:
    shares = Counter(maker_for(tenant_schema(uuid.uuid4())) for _ in range(ROLE_MAKER_COUNT * 200))
    assert set(shares) == set(maker_names())
    assert min(shares.values()) > 100
    assert max(shares.values()) < 300
