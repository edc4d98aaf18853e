"""Every public name the code offers is in a contract: the shared CONTRACT.md (whose
names are fixed, so they are listed here) or the project's own `docs/contract.md`."""

from __future__ import annotations

import argparse
from pathlib import Path

from starlette.routing import Mount, Route, WebSocketRoute

from audora.platform.cli.main import _parser
from audora.platform.config import Settings
from audora.platform.http.app import create_app
from audora.schema.build import build_schema

REPO = Path(__file__).resolve().parent.parent
OURS = (REPO / "docs" / "contract.md").read_text()

# The names ../shared/CONTRACT.md fixes (CI's clone has no ../shared to read).
SHARED_OPERATIONS = frozenset(
    "signUp logIn logOut me revokeSession revokeOtherSessions enrollTotp confirmTotp "
    "inviteMember acceptInvitation members updateMember removeMember createClientProfile "
    "updateClientProfile clientProfiles clientProfile createCall createRecordingUpload call "
    "calls regenerateDocuments updateDocument auditLog verifyAuditChain closeAccount "
    "reopenAccount requestExport accessRequests approveAccessRequest denyAccessRequest "
    "revokeAccessGrant".split()
)
SHARED_ROUTES = frozenset(
    "/graphql /healthz /readyz /uploads/{ticket} /.well-known/security.txt /status "
    "/status.json /admin".split()
)
SHARED_COMMANDS = frozenset({"demo"})


def _root_fields() -> set[str]:
    schema = build_schema()._schema
    roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
    return {name for root in roots if root is not None for name in root.fields}


def test_every_graphql_root_field_is_in_a_contract() -> None:
    missing = sorted(n for n in _root_fields() - SHARED_OPERATIONS if f"`{n}" not in OURS)
    assert not missing, f"add to docs/contract.md: {missing}"


def test_every_http_route_is_in_a_contract(settings: Settings) -> None:
    app = create_app(settings)
    paths = {r.path for r in app.routes if isinstance(r, Route | WebSocketRoute | Mount)}
    missing = sorted(p for p in paths - SHARED_ROUTES if f" {p}" not in OURS.replace("`", " "))
    assert not missing, f"add to docs/contract.md: {missing}"


def _leaves(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    """Every runnable command line, e.g. "tenants suspend", "dev clock advance"."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        return [prefix.strip()]
    return [
        leaf
        for group in groups
        for name, child in group.choices.items()
        for leaf in _leaves(child, f"{prefix} {name}")
    ]


def test_every_audora_command_is_in_a_contract() -> None:
    commands = _leaves(_parser())
    assert "tenants suspend" in commands
    assert "dev clock advance" in commands
    missing = [c for c in commands if c not in SHARED_COMMANDS and f"audora {c}" not in OURS]
    assert not missing, f"add to docs/contract.md: {missing}"
