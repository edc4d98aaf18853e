"""E4 at thousands of tenants: a tenant's first cold key brings the other keys a person's
pages read (profiles, transcripts, documents) with it, in one exchange with the key
service rather than one per page. The integrations key is still unwrapped only when asked
for, and a companion that does not unwrap costs the key asked for nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest
from sqlalchemy import Engine, text

from audora.platform.crypto.envelope import IntegrityError
from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.keys.service import WrappedKey
from audora.platform.runtime import Runtime
from audora.tenants.keys import data_keys

from audora_testing import GraphQL, raw_id, schema_of, sign_up

PURPOSES = ("clients", "documents", "transcripts", "integrations")


def _cached_purposes(tenant_id: uuid.UUID) -> set[str]:
    return {purpose for (tenant, purpose, _), _ in data_keys._cache.items() if tenant == tenant_id}


async def test_a_cold_tenant_unwraps_the_keys_its_pages_read_in_one_exchange(
    gql: GraphQL, runtime: Runtime, superuser: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await sign_up(gql, "Cold Keys Studio")
    tenant_id = raw_id(owner["account"]["id"])
    schema = schema_of(owner["account"]["id"])
    tenant = TenantRef(validate_tenant_schema(schema))
    async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
        made = {p: await data_keys.current_key(uow, runtime.keys, tenant_id, p) for p in PURPOSES}
        await uow.commit()
    data_keys.forget_keys(tenant_id)

    exchanges: list[list[WrappedKey]] = []
    unwrap = runtime.keys.decrypt_data_keys

    async def counted(tenant: uuid.UUID, wrapped: Sequence[WrappedKey]) -> list[bytes | None]:
        exchanges.append(list(wrapped))
        return await unwrap(tenant, wrapped)

    monkeypatch.setattr(runtime.keys, "decrypt_data_keys", counted)

    async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
        key = await data_keys.key_for(uow, runtime.keys, tenant_id, "clients", 1)
        assert key == made["clients"].plaintext
        assert [len(batch) for batch in exchanges] == [3]
        assert _cached_purposes(tenant_id) == {"clients", "documents", "transcripts"}
        # The next pages' keys are already there: no exchange for them.
        documents = await data_keys.current_key(uow, runtime.keys, tenant_id, "documents")
        assert documents == made["documents"]
        assert len(exchanges) == 1
        # Third parties' tokens: only when asked for, and then on their own.
        key = await data_keys.key_for(uow, runtime.keys, tenant_id, "integrations", 1)
        assert key == made["integrations"].plaintext
        assert [len(batch) for batch in exchanges] == [3, 1]

    # A tampered companion is left out; the key asked for still opens.
    data_keys.forget_keys(tenant_id)
    with superuser.begin() as conn:
        conn.execute(
            text(
                f"UPDATE {schema}.data_keys SET wrapped = set_byte(wrapped, length(wrapped) - 1, "
                "get_byte(wrapped, length(wrapped) - 1) # 1) WHERE purpose = 'documents'"
            )
        )
    async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
        key = await data_keys.key_for(uow, runtime.keys, tenant_id, "clients", 1)
        assert key == made["clients"].plaintext
        assert _cached_purposes(tenant_id) == {"clients", "transcripts"}
        with pytest.raises(IntegrityError, match="documents data key v1 did not unwrap"):
            await data_keys.key_for(uow, runtime.keys, tenant_id, "documents", 1)
