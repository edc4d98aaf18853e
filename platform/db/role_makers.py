"""The roles that make and drop tenant roles, each for a fixed share of the tenants.

PostgreSQL 16 gives a CREATEROLE role ADMIN on every role it creates, and a new tenant
role's `ROLE audora_gateway` clause checks its grantor by listing every membership of
the role running it, a list rebuilt after every change to memberships. Made by the
provisioner itself, each tenant role made the next one slower in proportion to the
tenants already there: 17% of the provisioner's CPU near 7,000 tenants, and in a bare
cluster 897 roles/s at 2,000, 274/s at 10,000. Made by `ROLE_MAKER_COUNT` makers,
each list holds a share of them (in the same test with 64 makers: 946/s and 772/s).

A maker cannot log in and holds CREATEROLE and ADMIN on the roles it made, nothing
else. Nobody is a member of a maker: the provisioner acts as one only through two
SECURITY DEFINER functions per maker, owned by it, that make or drop one role of the
tenant name pattern. Switching the session to a maker would not do: checking that the
provisioner may become it lists every maker's memberships, all the tenants again.

Roles made by the provisioner before the makers existed are dropped by the provisioner,
which still administers them.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform.db.roles import GATEWAY_ROLE, PROVISIONER_ROLE
from audora.platform.db.tenant_names import TenantSchema, tenant_role

# 32 shares: each maker's list holds about 310 roles at 10,000 tenants.
ROLE_MAKER_COUNT = 32
MAKERS_SCHEMA = "audora_role_makers"
_MAKER_PREFIX = "audora_role_maker_"


def _maker(index: int) -> str:
    return f"{_MAKER_PREFIX}{index:02d}"


def maker_names() -> list[str]:
    return [_maker(index) for index in range(ROLE_MAKER_COUNT)]


def _maker_index(schema: TenantSchema) -> int:
    # A tenant schema is `t_` and a random UUID's hex: its value spreads evenly.
    return int(schema[2:], 16) % ROLE_MAKER_COUNT


def maker_for(schema: TenantSchema) -> str:
    """The maker of a new tenant's role."""
    return _maker(_maker_index(schema))


def _function(action: str, maker: str) -> str:
    """A maker's function: `make` or `drop`."""
    return f"{MAKERS_SCHEMA}.{action}_role_{maker.removeprefix(_MAKER_PREFIX)}"


def create_tenant_role(schema: TenantSchema) -> str:
    """The statement that makes a tenant's role (NOLOGIN NOINHERIT, the gateway a member
    that may switch to it but inherits nothing), run by the provisioner."""
    # The name is a validated TenantSchema's, and the function checks it again.
    return f"SELECT {_function('make', maker_for(schema))}('{tenant_role(schema)}')"


async def drop_tenant_role(conn: AsyncConnection, schema: TenantSchema) -> None:
    """Drop a tenant's role, if it exists, as whoever administers it: its maker, or the
    provisioner for a role made before the makers."""
    role = tenant_role(schema)
    # Any maker's, not only the current count's: were the count ever lowered, a role
    # of a maker no longer in use is still dropped through that maker's function.
    maker = (
        await conn.execute(
            text(
                "SELECT m.rolname FROM pg_catalog.pg_auth_members a "
                "JOIN pg_catalog.pg_roles m ON m.oid = a.member "
                "WHERE a.roleid = pg_catalog.to_regrole(:role) AND a.admin_option "
                "AND pg_catalog.starts_with(m.rolname, :prefix)"
            ),
            {"role": role, "prefix": _MAKER_PREFIX},
        )
    ).scalar()
    if maker is None:
        await conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
    else:
        await conn.exec_driver_sql(f"SELECT {_function('drop', str(maker))}('{role}')")


# The bodies qualify every name with pg_catalog rather than set search_path: a SECURITY
# DEFINER function must not resolve anything through its caller's path, and no
# statement of the platform sets one outside the tenant binding. They call two
# functions and use no operator and no table; an operator added later must be written
# OPERATOR(pg_catalog.=), or the caller's path (where a schema the provisioner owns
# comes first) would choose it. `IS NOT TRUE`: a NULL name is refused too.
_TENANT_ROLE_PATTERN = "^t_[0-9a-f]{32}$"


def _functions(maker: str) -> list[str]:
    check = (
        f"IF pg_catalog.textregexeq(name, '{_TENANT_ROLE_PATTERN}') IS NOT TRUE THEN "
        "RAISE EXCEPTION 'not a tenant role name: %', name USING ERRCODE = '22023'; END IF;"
    )
    statements = []
    for kind, action in (
        # NOLOGIN: nobody connects as a tenant; the application switches to it per
        # transaction. The gateway's membership has INHERIT FALSE (the gateway is
        # NOINHERIT, which a membership takes as its default) and SET TRUE: it gets the
        # tenant's privileges only while a binding is in force. It is given by the ROLE
        # clause rather than a later GRANT, whose grantor check scanned every role the
        # grantor administers (317 roles/s at 1,000 down to 31/s at 4,000).
        ("make", f"CREATE ROLE %I NOLOGIN NOINHERIT ROLE {GATEWAY_ROLE}"),
        ("drop", "DROP ROLE IF EXISTS %I"),
    ):
        function = _function(kind, maker)
        statements += [
            f"CREATE OR REPLACE FUNCTION {function}(name text) RETURNS void "
            "LANGUAGE plpgsql SECURITY DEFINER AS $body$ BEGIN "
            f"{check} EXECUTE pg_catalog.format('{action}', name); END $body$",
            f"ALTER FUNCTION {function}(text) OWNER TO {maker}",
            f"REVOKE ALL ON FUNCTION {function}(text) FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION {function}(text) TO {PROVISIONER_ROLE}",
        ]
    return statements


def ensure_role_makers(conn: Connection) -> None:
    """Run as the operator, in autocommit, after the provisioner's role exists: the
    makers, their functions and the provisioner's right to call them, idempotently."""
    existing = set(
        conn.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:m)"), {"m": maker_names()}
        ).scalars()
    )
    statements = [
        f"CREATE SCHEMA IF NOT EXISTS {MAKERS_SCHEMA}",
        # Whoever made it first (the provisioner has CREATE on the database), it is the
        # operator's: a schema owner could replace the functions.
        f"ALTER SCHEMA {MAKERS_SCHEMA} OWNER TO CURRENT_USER",
        f"REVOKE ALL ON SCHEMA {MAKERS_SCHEMA} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {MAKERS_SCHEMA} TO {PROVISIONER_ROLE}",
    ]
    for maker in maker_names():
        verb = "ALTER" if maker in existing else "CREATE"
        statements.append(
            f"{verb} ROLE {maker} NOLOGIN NOINHERIT CREATEROLE NOCREATEDB "
            "NOSUPERUSER NOREPLICATION NOBYPASSRLS"
        )
        statements += _functions(maker)
    # The driver reads % as a placeholder even with no parameters: the bodies' format
    # and RAISE markers are written doubled.
    conn.exec_driver_sql(";\n".join(statements).replace("%", "%%"))
