"""The cluster-level roles the platform logs in as, and their bootstrap.

Created (or brought back in line) by `audora migrate` with the operator's URL, with the
passwords taken from the application's and provisioner's own URLs, so that the secrets
come from the environment or secret manager and nowhere else.
"""

from __future__ import annotations

from sqlalchemy import make_url, text
from sqlalchemy.engine import Connection

from audora.platform.config import ClusterUrls, Settings

# Platform rows (sessions, users, accounts): the API's and workers' platform pool.
APP_ROLE = "audora_app"
# Tenant data only: the tenant pool. A member of every tenant role, so that a binding can
# SET ROLE, and granted nothing in the platform schema, so that even a connection that
# somehow left its binding could read no session, password hash or storage key.
GATEWAY_ROLE = "audora_gateway"
PROVISIONER_ROLE = "audora_provisioner"


def _password(url: str) -> str:
    password = make_url(url).password
    if not password:
        raise ValueError("database URLs must carry a password")
    return str(password)


def ensure_login_roles(conn: Connection, settings: Settings) -> None:
    """Run as the operator, in autocommit: roles and database-level grants."""
    _ensure(
        conn,
        [
            (APP_ROLE, "LOGIN NOINHERIT NOCREATEROLE NOCREATEDB", settings.app_database_url),
            *_tenant_roles(settings.gateway_database_url, settings.provisioner_database_url),
        ],
    )


def ensure_cluster_roles(conn: Connection, urls: ClusterUrls) -> None:
    """The same on another tenant cluster, which holds no platform rows and so needs no
    application role: the tenant pool's and the provisioner's roles only."""
    _ensure(conn, _tenant_roles(urls.gateway_database_url, urls.provisioner_database_url))


def _tenant_roles(gateway_url: str, provisioner_url: str) -> list[tuple[str, str, str]]:
    return [
        # NOINHERIT: the gateway holds no tenant's privileges until a binding switches
        # its transaction to that tenant's role.
        (GATEWAY_ROLE, "LOGIN NOINHERIT NOCREATEROLE NOCREATEDB", gateway_url),
        (PROVISIONER_ROLE, "LOGIN NOINHERIT CREATEROLE NOCREATEDB", provisioner_url),
    ]


def _ensure(conn: Connection, roles: list[tuple[str, str, str]]) -> None:
    database = conn.exec_driver_sql("SELECT current_database()").scalar_one()
    for role, attrs, url in roles:
        exists = conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).first()
        verb = "ALTER" if exists else "CREATE"
        # Role names are constants; the password is passed as a literal because
        # CREATE ROLE takes no bind parameters, so it is quoted by the server's rules.
        quoted = conn.exec_driver_sql(
            "SELECT quote_literal(%(p)s)", {"p": _password(url)}
        ).scalar_one()
        conn.exec_driver_sql(f"{verb} ROLE {role} WITH {attrs} PASSWORD {quoted}")
    conn.exec_driver_sql(f'GRANT CONNECT, CREATE ON DATABASE "{database}" TO {PROVISIONER_ROLE}')
    for role in [r for r, _, _ in roles if r != PROVISIONER_ROLE]:
        conn.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
        conn.exec_driver_sql(f'REVOKE CREATE ON DATABASE "{database}" FROM {role}')
    # Temporary tables would outlive a binding on a pooled connection and sit in front
    # of the tenant schema on the search path: nobody gets to create them.
    conn.exec_driver_sql(f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC')
