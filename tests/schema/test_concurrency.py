"""Many requests at once: every one is answered, each in its own tenant.

A request holds its tenant connection until it ends and may meanwhile read platform rows
(the members loader behind `createdBy`). With one pool for both, more concurrent requests
than connections once waited on each other until the pool timed out."""

from __future__ import annotations

import asyncio
from typing import Any

from audora_testing import CREATE_PROFILE, GraphQL, sign_up


async def test_more_concurrent_requests_than_pooled_connections_all_succeed(
    gql: GraphQL,
) -> None:
    tenants = [await sign_up(gql, f"Busy {i}") for i in range(4)]

    async def create(tenant: dict[str, Any], n: int) -> dict[str, Any]:
        return await gql(CREATE_PROFILE, {"input": {"name": f"P{n}"}}, token=tenant["token"])

    results = await asyncio.gather(*(create(t, n) for t in tenants for n in range(12)))
    assert [r for r in results if "errors" in r] == []
    for tenant in tenants:
        listed = await gql("{ clientProfiles { name createdBy { email } } }", token=tenant["token"])
        profiles = listed["data"]["clientProfiles"]
        assert sorted(p["name"] for p in profiles) == sorted(f"P{n}" for n in range(12))
        assert {p["createdBy"]["email"] for p in profiles} == {tenant["email"]}
