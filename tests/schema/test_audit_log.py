"""The audit log through the API: `auditLog` pages newest first with opaque cursors and an
exact-or-prefix action filter; `verifyAuditChain` names the first event altered behind
the platform's back; both are `@requires(permission: AUDIT_READ)`, so a member or a
viewer gets null plus FORBIDDEN while the rest of the query answers."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, text

from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append

from audora_testing import TEST_IP, GraphQL, error_codes, schema_of, seat, sign_up

AUDIT_LOG = """
query Audit($first: Int, $after: String, $action: String) {
  auditLog(first: $first, after: $after, action: $action) {
    edges { cursor node { id at actor action target ip details hash } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

VERIFY = "{ verifyAuditChain { valid events firstInvalidEventId } }"


def _tenant(owner: dict[str, Any]) -> TenantRef:
    return TenantRef(validate_tenant_schema(schema_of(owner["account"]["id"])))


async def _append(runtime: Runtime, owner: dict[str, Any], actions: list[str]) -> list[str]:
    """Append events with these actions, in order; their public ids."""
    made = []
    async with tenant_transaction(runtime.tenant_engines, _tenant(owner)) as uow:
        for n, action in enumerate(actions):
            event_id = await append(
                uow,
                runtime.clock.now(),
                AuditEntry("system:test", action, target=f"thing:{n}", details={"n": n}),
            )
            made.append(f"aud_{event_id.hex}")
        await uow.commit()
    return made


async def _all_pages(
    gql: GraphQL, token: str, *, first: int, action: str | None = None
) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    after = None
    while True:
        result = await gql(
            AUDIT_LOG, {"first": first, "after": after, "action": action}, token=token
        )
        assert "errors" not in result, result
        connection = result["data"]["auditLog"]
        edges = connection["edges"]
        info = connection["pageInfo"]
        assert len(edges) <= first
        assert info["hasPreviousPage"] is False
        assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)
        assert info["startCursor"] == (edges[0]["cursor"] if edges else None)
        pages.append([edge["node"] for edge in edges])
        if not info["hasNextPage"]:
            return pages
        after = info["endCursor"]


async def test_the_audit_log_pages_newest_first_through_cursors(
    gql: GraphQL, runtime: Runtime
) -> None:
    owner = await sign_up(gql, "Paged Log")
    actions = [f"test.alpha.{n}" if n % 3 else "test.beta" for n in range(8)]
    made = await _append(runtime, owner, actions)
    pages = await _all_pages(gql, owner["token"], first=3)
    assert [len(page) for page in pages] == [3, 3, 3]  # eight appended and account.created
    events = [event for page in pages for event in page]
    assert [e["id"] for e in events[:8]] == list(reversed(made))
    assert [e["action"] for e in events] == [*reversed(actions), "account.created"]
    created = events[-1]
    assert created["actor"] == f"user:{uuid.UUID(hex=owner['user']['id'][4:])}"
    assert created["ip"] == TEST_IP
    newest = events[0]
    assert newest["details"] == {"n": 7}
    assert newest["target"] == "thing:7"
    assert newest["actor"] == "system:test"
    assert len(newest["hash"]) == 64
    int(newest["hash"], 16)
    # Cursors are opaque strings; an event appended meanwhile does not shift old pages.
    first_page = await gql(AUDIT_LOG, {"first": 3}, token=owner["token"])
    cursor = first_page["data"]["auditLog"]["pageInfo"]["endCursor"]
    await _append(runtime, owner, ["test.late"])
    second_page = await gql(AUDIT_LOG, {"first": 3, "after": cursor}, token=owner["token"])
    assert [e["node"]["id"] for e in second_page["data"]["auditLog"]["edges"]] == [
        e["id"] for e in pages[1]
    ]


async def test_the_action_filter_is_exact_or_a_prefix_ending_in_a_dot(
    gql: GraphQL, runtime: Runtime
) -> None:
    owner = await sign_up(gql, "Filtered Log")
    await _append(
        runtime,
        owner,
        [
            "test.alpha.a",
            "test.beta",
            "test.alpha.b",
            "test.alpha",
            "test.alphabet",
            "test.alpha.c",
        ],
    )
    token = owner["token"]
    by_prefix = await _all_pages(gql, token, first=2, action="test.alpha.")
    assert [[e["action"] for e in page] for page in by_prefix] == [
        ["test.alpha.c", "test.alpha.b"],
        ["test.alpha.a"],
    ]
    exact = await _all_pages(gql, token, first=50, action="test.alpha")
    assert [e["action"] for e in exact[0]] == ["test.alpha"]
    assert await _all_pages(gql, token, first=50, action="test.gamma") == [[]]
    family = await _all_pages(gql, token, first=50, action="test.")
    assert len(family[0]) == 6
    # "_" is a character of the name, not a LIKE wildcard.
    assert await _all_pages(gql, token, first=50, action="test_alpha.") == [[]]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 201}, "first"),
        ({"first": 0}, "first"),
        ({"first": -5}, "first"),
        ({"after": "not a cursor"}, "after"),
        ({"after": ""}, "after"),
        ({"after": base64.urlsafe_b64encode(b"audit:0").decode().rstrip("=")}, "after"),
        ({"after": base64.urlsafe_b64encode(b"audit:-3").decode().rstrip("=")}, "after"),
        ({"after": base64.urlsafe_b64encode(b"clients:12").decode().rstrip("=")}, "after"),
        ({"after": base64.urlsafe_b64encode(b"audit:" + b"9" * 30).decode()}, "after"),
        ({"action": "Login; DROP TABLE"}, "action"),
        ({"action": "login..failed"}, "action"),
        ({"action": "x" * 65}, "action"),
    ],
)
async def test_bad_paging_input_is_bad_user_input(
    gql: GraphQL, variables: dict[str, Any], field: str
) -> None:
    owner = await sign_up(gql, "Bad Paging")
    result = await gql(AUDIT_LOG, variables, token=owner["token"])
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == field
    assert result["errors"][0]["path"] == ["auditLog"]
    assert result["data"] == {"auditLog": None}


async def test_two_hundred_is_the_largest_page(gql: GraphQL, runtime: Runtime) -> None:
    owner = await sign_up(gql, "Big Page")
    await _append(runtime, owner, ["test.bulk"] * 205)
    result = await gql(AUDIT_LOG, {"first": 200}, token=owner["token"])
    assert "errors" not in result, result
    assert len(result["data"]["auditLog"]["edges"]) == 200
    assert result["data"]["auditLog"]["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize("role", ["VIEWER", "MEMBER"])
async def test_a_viewer_or_member_gets_null_and_forbidden_on_the_audit_log(
    gql: GraphQL, runtime: Runtime, superuser: Engine, role: str
) -> None:
    owner = await sign_up(gql, f"Audit Rules {role}")
    token = (await seat(gql, runtime, superuser, owner, role)).token
    result = await gql(
        "{ me { user { role } } auditLog { edges { node { id action } } }"
        " verifyAuditChain { valid } }",
        token=token,
    )
    assert result["data"] == {
        "me": {"user": {"role": role}},
        "auditLog": None,
        "verifyAuditChain": None,
    }
    assert error_codes(result) == ["FORBIDDEN", "FORBIDDEN"]
    assert sorted(e["path"] for e in result["errors"]) == [["auditLog"], ["verifyAuditChain"]]
    assert "account.created" not in str(result)


@pytest.mark.parametrize("role", ["OWNER", "ADMIN"])
async def test_owners_and_admins_read_the_audit_log_and_verify_it(
    gql: GraphQL, runtime: Runtime, superuser: Engine, role: str
) -> None:
    owner = await sign_up(gql, f"Audit Readers {role}")
    token = (
        owner["token"]
        if role == "OWNER"
        else (await seat(gql, runtime, superuser, owner, role)).token
    )
    result = await gql(
        '{ auditLog(action: "account.created") { edges { node { action } } } '
        "verifyAuditChain { valid events firstInvalidEventId } }",
        token=token,
    )
    assert "errors" not in result, result
    assert result["data"]["auditLog"]["edges"] == [{"node": {"action": "account.created"}}]
    check = result["data"]["verifyAuditChain"]
    assert check["valid"] is True
    assert check["firstInvalidEventId"] is None
    assert check["events"] >= 1


async def test_verify_audit_chain_names_an_event_a_superuser_altered(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Tampered Log")
    made = await _append(runtime, owner, [f"test.{n}" for n in range(4)])
    before = await gql(VERIFY, token=owner["token"])
    assert before["data"]["verifyAuditChain"] == {
        "valid": True,
        "events": 5,
        "firstInvalidEventId": None,
    }
    schema = schema_of(owner["account"]["id"])
    with superuser.begin() as conn:
        # Only a superuser can, and only with the append-only trigger switched off.
        conn.exec_driver_sql(f"ALTER TABLE {schema}.audit_events DISABLE TRIGGER USER")
        conn.execute(
            text(f"UPDATE {schema}.audit_events SET target = 'thing:forged' WHERE id = :i"),
            {"i": uuid.UUID(hex=made[1][4:])},
        )
        conn.exec_driver_sql(f"ALTER TABLE {schema}.audit_events ENABLE TRIGGER USER")
    after = await gql(VERIFY, token=owner["token"])
    assert after["data"]["verifyAuditChain"] == {
        "valid": False,
        "events": 2,  # account.created and test.0 still check out
        "firstInvalidEventId": made[1],
    }
    # The altered event is still listed, as stored: the chain is what gives it away.
    listed = await gql(AUDIT_LOG, {"action": "test.1"}, token=owner["token"])
    assert listed["data"]["auditLog"]["edges"][0]["node"]["target"] == "thing:forged"
