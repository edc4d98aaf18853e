"""E4: KEK rotation rewraps a tenant's data keys without touching its data; the data
stays readable, and `audora keys status` shows every data key under the new version."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Engine, text

from audora_testing import GraphQL, create_profile, run_audora, schema_of, sign_up

REPO = Path(__file__).resolve().parents[3]
PROFILE = "query($id: ID!) { clientProfile(id: $id) { notes budget } }"


async def test_rotating_a_tenant_kek_rewraps_its_data_keys_and_keeps_data_readable(
    gql: GraphQL, superuser: Engine, stack_env: dict[str, str]
) -> None:
    owner = await sign_up(gql, "Rotating Keys")
    made = await create_profile(gql, owner["token"], "Client", notes="kept", budget="90k")
    schema = schema_of(owner["account"]["id"])
    tenant = uuid.UUID(hex=owner["account"]["id"][4:])

    def sealed_state() -> tuple[bytes, bytes]:
        with superuser.connect() as conn:
            wrapped = conn.execute(text(f"SELECT wrapped FROM {schema}.data_keys")).scalar_one()
            notes = conn.execute(text(f"SELECT notes FROM {schema}.client_profiles")).scalar_one()
        return bytes(wrapped), bytes(notes)

    wrapped_before, notes_before = sealed_state()
    assert f"{tenant} clients/v1 under KEK v1" in run_audora(stack_env, "keys", "status")
    out = run_audora(stack_env, "keys", "rotate", "--tenant", owner["account"]["id"])
    assert f"{tenant} KEK v2, 2 keys rewrapped" in out  # its data key and storage key
    wrapped_after, notes_after = sealed_state()
    assert wrapped_after != wrapped_before
    assert notes_after == notes_before  # the data itself was not re-encrypted
    assert f"{tenant} clients/v1 under KEK v2" in run_audora(stack_env, "keys", "status")
    read = await gql(PROFILE, {"id": made["id"]}, token=owner["token"])
    assert read["data"]["clientProfile"] == {"notes": "kept", "budget": "90k"}
