"""The permission matrix: what each role may do, in one place.

Resolvers and services ask `allows(role, permission)`; the GraphQL schema marks
protected fields with `@requires(permission: ...)`; `docs/permissions.md` is rendered
from `MATRIX` (and a test keeps it current).
"""

from __future__ import annotations

from enum import StrEnum

from audora.platform.auth.principal import Role


class Permission(StrEnum):
    CLIENTS_READ = "clients:read"
    CLIENTS_WRITE = "clients:write"
    CALLS_READ = "calls:read"
    CALLS_WRITE = "calls:write"
    TRANSCRIPTS_READ = "transcripts:read"
    DOCUMENTS_READ = "documents:read"
    DOCUMENTS_WRITE = "documents:write"
    FINANCIALS_READ = "financials:read"
    MEMBERS_READ = "members:read"
    MEMBERS_MANAGE = "members:manage"
    AUDIT_READ = "audit:read"
    ACCESS_APPROVE = "access:approve"
    ACCOUNT_MANAGE = "account:manage"
    INTEGRATIONS_MANAGE = "integrations:manage"


DESCRIPTIONS: dict[Permission, str] = {
    Permission.CLIENTS_READ: "see client profiles (name, contact, notes)",
    Permission.CLIENTS_WRITE: "create and change client profiles",
    Permission.CALLS_READ: "see calls and their recordings' status",
    Permission.CALLS_WRITE: "create calls and upload recordings",
    Permission.TRANSCRIPTS_READ: "read transcripts",
    Permission.DOCUMENTS_READ: "read generated documents",
    Permission.DOCUMENTS_WRITE: "edit and regenerate documents, push them to integrations",
    Permission.FINANCIALS_READ: "see budgets, rates and SOW pricing",
    Permission.MEMBERS_READ: "see the account's members",
    Permission.MEMBERS_MANAGE: "invite, change and remove members",
    Permission.AUDIT_READ: "read the audit log and verify its chain",
    Permission.ACCESS_APPROVE: "approve or deny staff access requests",
    Permission.ACCOUNT_MANAGE: "close, reopen and export the account",
    Permission.INTEGRATIONS_MANAGE: "connect and remove integrations (Linear, Notion, webhooks)",
}

_EVERYTHING = frozenset(Permission)

MATRIX: dict[Role, frozenset[Permission]] = {
    Role.OWNER: _EVERYTHING,
    Role.ADMIN: _EVERYTHING - {Permission.ACCOUNT_MANAGE},
    Role.MEMBER: frozenset(
        {
            Permission.CLIENTS_READ,
            Permission.CLIENTS_WRITE,
            Permission.CALLS_READ,
            Permission.CALLS_WRITE,
            Permission.TRANSCRIPTS_READ,
            Permission.DOCUMENTS_READ,
            Permission.DOCUMENTS_WRITE,
            Permission.FINANCIALS_READ,
            Permission.MEMBERS_READ,
        }
    ),
    Role.VIEWER: frozenset(
        {
            Permission.CLIENTS_READ,
            Permission.CALLS_READ,
            Permission.DOCUMENTS_READ,
            Permission.MEMBERS_READ,
        }
    ),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in MATRIX[role]


def render_markdown() -> str:
    """The matrix as the table in docs/permissions.md."""
    roles = list(Role)
    lines = [
        "# Permissions",
        "",
        "Generated from `platform/auth/permissions.py` by `make schema`; a test keeps it",
        "current. Fields marked `@requires(permission: ...)` in `schema/schema.graphql`",
        "answer null with a FORBIDDEN error (its `path` names the field) to a role without",
        "that permission; the rest of the query still answers.",
        "",
        "| permission | what it allows | " + " | ".join(r.value for r in roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for permission in Permission:
        marks = " | ".join("yes" if allows(r, permission) else "" for r in roles)
        lines.append(f"| `{permission.value}` | {DESCRIPTIONS[permission]} | {marks} |")
    lines += [
        "",
        "A seat may also be scoped to some client profiles: it then sees only those",
        "profiles and the calls, recordings, transcripts and documents under them, whatever",
        "its role. Owners and admins are never scoped.",
        "",
    ]
    return "\n".join(lines)
