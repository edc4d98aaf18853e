"""A process killed between creating a tenant's bucket and committing its account leaves
a bucket of no account; the sweep removes such leftovers once they are old enough that
no sign-up can still be committing them."""

from __future__ import annotations

import uuid
from datetime import timedelta

from audora.platform.db.tenant_names import tenant_bucket
from audora.platform.runtime import Runtime
from audora.tenants.provisioning.orphans import GRACE, sweep_orphan_storage

from audora_testing import GraphQL, sign_up


async def test_the_sweep_removes_old_orphan_buckets_and_nothing_else(
    runtime: Runtime, gql: GraphQL
) -> None:
    await sign_up(gql, "Keeps Its Bucket")
    prefix = runtime.settings.bucket_prefix
    orphan = tenant_bucket(prefix, uuid.uuid4())
    runtime.storage.create_tenant_storage(orphan)
    created = runtime.storage.tenant_buckets()[orphan]
    owned = set(runtime.storage.tenant_buckets()) - {orphan}

    too_soon = await sweep_orphan_storage(
        runtime.platform_provisioner,
        runtime.storage,
        bucket_prefix=prefix,
        now=created + GRACE - timedelta(seconds=5),
    )
    assert orphan not in too_soon
    removed = await sweep_orphan_storage(
        runtime.platform_provisioner,
        runtime.storage,
        bucket_prefix=prefix,
        now=created + GRACE + timedelta(seconds=5),
    )
    assert orphan in removed
    remaining = set(runtime.storage.tenant_buckets())
    assert orphan not in remaining
    assert owned <= remaining
