"""The cluster-level roles the platform logs in as, and their bootstrap.

Created (or brought back in line) by `audora migrate` with the operator's URL, with the
passwords taken from the application's and provisioner's own URLs, so that the secrets
come from the environment or secret manager and nowhere else.
"""

from __future__ import annotations

from sqlalchemy import make_url, text
from sqlalchemy.engine import Connection

APP_ROLE = "audora_app"
PROVISIONER_ROLE = "audora_provisioner"


def _password(url: str) -> str:
    password = make_url(url).password
    if not password:
        raise ValueError("database URLs must carry a password")
    return str(password)


def ensure_login_roles(conn: Connection, *, app_url: str, provisioner_url: str) -> None:
    """Run as the operator, in autocommit: roles and database-level grants."""
    database = conn.exec_driver_sql("SELECT current_database()").scalar_one()
    for role, attrs, url in (
        # NOINHERIT: the application holds no tenant's privileges until it binds a
        # transaction to that tenant with SET LOCAL ROLE.
        (APP_ROLE, "LOGIN NOINHERIT NOCREATEROLE NOCREATEDB", app_url),
        (PROVISIONER_ROLE, "LOGIN NOINHERIT CREATEROLE NOCREATEDB", provisioner_url),
    ):
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
    conn.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{database}" TO {APP_ROLE}')
    conn.exec_driver_sql(f'REVOKE CREATE ON DATABASE "{database}" FROM {APP_ROLE}')
    # Temporary tables would outlive a binding on a pooled connection and sit in front
    # of the tenant schema on the search path: nobody gets to create them.
    conn.exec_driver_sql(f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC')
