"""E3 for client profiles: notes and budgets are stored sealed with the tenant's data
key; the raw database holds no plaintext of them, and a sealed value moved to another
row does not open there."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import Engine, text

from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.keys.data_keys import current_key

from audora_testing import GraphQL, create_profile, error_codes, schema_of, sign_up

PROFILE = "query($id: ID!) { clientProfile(id: $id) { notes budget } }"


async def test_notes_and_budgets_are_unreadable_in_the_raw_database(
    gql: GraphQL, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Sealed Studio")
    marker = f"MARKER-{uuid.uuid4().hex}"
    made = await create_profile(
        gql, owner["token"], "Sealed client", notes=f"roadmap {marker}", budget=f"{marker} EUR"
    )
    read = await gql(PROFILE, {"id": made["id"]}, token=owner["token"])
    assert read["data"]["clientProfile"] == {
        "notes": f"roadmap {marker}",
        "budget": f"{marker} EUR",
    }
    schema = schema_of(owner["account"]["id"])
    with superuser.connect() as conn:
        rows = conn.execute(text(f"SELECT t::text FROM {schema}.client_profiles t")).scalars()
        keys = conn.execute(text(f"SELECT t::text FROM {schema}.data_keys t")).scalars().all()
        everything = "\n".join(rows)
    assert marker not in everything
    assert marker.encode().hex() not in everything
    assert len(keys) == 1  # one wrapped "clients" key, nothing in the clear beside it


async def test_a_sealed_note_moved_to_another_row_does_not_open(
    gql: GraphQL, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Moved Rows")
    first = await create_profile(gql, owner["token"], "First", notes="first's secret")
    second = await create_profile(gql, owner["token"], "Second", notes="second's notes")
    schema = schema_of(owner["account"]["id"])
    with superuser.begin() as conn:
        conn.execute(
            text(
                f"UPDATE {schema}.client_profiles SET notes = "
                f"(SELECT notes FROM {schema}.client_profiles WHERE id = :a) WHERE id = :b"
            ),
            {"a": uuid.UUID(hex=first["id"][4:]), "b": uuid.UUID(hex=second["id"][4:])},
        )
    result = await gql(PROFILE, {"id": second["id"]}, token=owner["token"])
    assert error_codes(result) == ["INTERNAL"]
    assert result["errors"][0]["message"] == "stored data failed its integrity check"
    assert "first's secret" not in str(result)


async def test_concurrent_first_writes_share_one_data_key(gql: GraphQL, runtime: Runtime) -> None:
    owner = await sign_up(gql, "Racing Writers")
    tenant = TenantRef(validate_tenant_schema(schema_of(owner["account"]["id"])))
    tenant_id = uuid.UUID(hex=owner["account"]["id"][4:])

    async def first_key() -> bytes:
        async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
            key = await current_key(uow, runtime.keys, tenant_id, "race")
            await uow.commit()
            return key.plaintext

    made = await asyncio.gather(*(first_key() for _ in range(6)))
    assert len(set(made)) == 1
