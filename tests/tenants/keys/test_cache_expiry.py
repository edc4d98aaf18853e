"""What a process keeps of a tenant in memory (its plaintext data keys, its opened bucket
and credentials) leaves it once expired, whether or not that tenant is ever served again:
plaintext keys never outlive their few minutes, and memory does not grow with the number
of tenants a process has served."""

from __future__ import annotations

import pytest

from audora.platform.runtime import Runtime
from audora.tenants.keys import data_keys
from audora.tenants.storage import credentials

from audora_testing import GraphQL, create_profile, raw_id, sign_up

PROFILES = "{ clientProfiles { name budget } }"


def _later(monkeypatch: pytest.MonkeyPatch, module: object, seconds: float) -> None:
    """The module's clock `seconds` ahead (its own name for it, not the process's)."""
    now = data_keys.monotonic()
    monkeypatch.setattr(module, "monotonic", lambda: now + seconds)


async def test_an_expired_data_key_leaves_memory_though_its_tenant_is_not_served_again(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    idle, busy = await sign_up(gql, "Idle Studio"), await sign_up(gql, "Busy Studio")
    await create_profile(gql, idle["token"], "Harbor Dental", budget="40k EUR")
    idle_id = raw_id(idle["account"]["id"])
    assert any(key[0] == idle_id for key in data_keys._cache)

    monkeypatch.setattr(data_keys, "_swept_at", data_keys._swept_at)  # restored after
    _later(monkeypatch, data_keys, data_keys.CACHE_SECONDS + 1)
    await create_profile(gql, busy["token"], "Northwind", budget="12k EUR")

    assert not any(key[0] == idle_id for key in data_keys._cache)
    assert any(key[0] == raw_id(busy["account"]["id"]) for key in data_keys._cache)
    # The idle tenant's data still opens: its key comes back from the key service.
    result = await gql(PROFILES, token=idle["token"])
    assert result["data"]["clientProfiles"] == [{"name": "Harbor Dental", "budget": "40k EUR"}]


async def test_an_expired_bucket_leaves_memory_though_its_tenant_is_not_served_again(
    gql: GraphQL, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    idle, busy = await sign_up(gql, "Idle Agency"), await sign_up(gql, "Busy Agency")
    idle_id, busy_id = raw_id(idle["account"]["id"]), raw_id(busy["account"]["id"])
    buckets = runtime.buckets
    opened = await buckets.of(idle_id)
    assert await buckets.of(idle_id) is opened  # cached while fresh

    monkeypatch.setattr(buckets, "_swept_at", buckets._swept_at)  # restored after
    _later(monkeypatch, credentials, credentials.CACHE_SECONDS + 1)
    await buckets.of(busy_id)

    assert idle_id not in buckets._open
    assert idle_id not in buckets._locks
    assert busy_id in buckets._open


async def test_at_most_max_open_buckets_stay_open_the_least_recently_used_closed_first(
    gql: GraphQL, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep over every tenant holds a bounded number of S3 clients, not all of them."""
    monkeypatch.setattr(credentials, "MAX_OPEN", 2)
    first, second, third = [
        raw_id((await sign_up(gql, f"Agency {n}"))["account"]["id"]) for n in range(3)
    ]
    buckets = runtime.buckets
    await buckets.of(first)
    await buckets.of(second)
    await buckets.of(first)  # used again: now the most recent
    await buckets.of(third)

    assert first in buckets._open
    assert third in buckets._open
    assert second not in buckets._open
    assert len(buckets._open) <= 2
