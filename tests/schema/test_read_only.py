"""C1: an account suspended on evidence of recording without consent is read-only. Its
members still sign in and read everything, but every mutation that writes tenant data
is refused with FORBIDDEN, uploads are refused, and nothing is half-written; lifting the
suspension makes it writable again. The refusal is attached to every mutation of the
schema when it is built, so a new mutation cannot forget it."""

from __future__ import annotations

from typing import Any

import httpx

from audora.platform.runtime import Runtime
from audora.schema.build import build_schema
from audora.schema.read_only import WRITABLE_WHEN_READ_ONLY, AccountWritable
from audora.tenants.registry.suspension import suspend, unsuspend

from audora_testing import (
    CREATE_UPLOAD,
    PASSWORD,
    GraphQL,
    create_call,
    create_profile,
    error_codes,
    raw_id,
    sign_up,
    upload_path,
    wav_bytes,
)

ME = "query { me { account { status } } clientProfiles { id name } }"
CREATE_PROFILE = "mutation($name: String!) { createClientProfile(input: {name: $name}) { id } }"
LOG_IN = "mutation($input: LogInInput!) { logIn(input: $input) { token } }"
LOG_OUT = "mutation { logOut }"
ENROLL_TOTP = "mutation { enrollTotp { secret } }"
INVITE = """
mutation($input: InviteMemberInput!) { inviteMember(input: $input) { id } }
"""


def _refused(result: dict[str, Any]) -> bool:
    return (
        error_codes(result) == ["FORBIDDEN"]
        and "read-only" in result["errors"][0]["message"]
        and result.get("data") is None
    )


def test_every_mutation_is_refused_for_a_read_only_account_or_allowlisted() -> None:
    schema = build_schema()
    definition = schema.get_type_by_name("Mutation")
    assert definition is not None
    graphql_names = set(schema._schema.mutation_type.fields)  # type: ignore[union-attr]  # the built schema has a Mutation type
    guarded, allowed = set(), set()
    for field in definition.fields:  # type: ignore[union-attr]  # an object type has fields
        name = schema.config.name_converter.get_graphql_name(field)
        if name in WRITABLE_WHEN_READ_ONLY:
            allowed.add(name)
            assert not any(isinstance(e, AccountWritable) for e in field.extensions), name
        else:
            # First: the account is judged before any other check or work.
            assert isinstance(field.extensions[0], AccountWritable), name
            guarded.add(name)
    assert guarded | allowed == graphql_names
    assert allowed == WRITABLE_WHEN_READ_ONLY  # no stale names in the allowlist
    assert {"createClientProfile", "createCall", "createRecordingUpload"} <= guarded


async def test_a_suspended_account_reads_signs_in_and_out_but_writes_nothing(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await sign_up(gql, "Suspended Studio")
    account = raw_id(owner["account"]["id"])
    profile = await create_profile(gql, owner["token"], "Before the suspension")
    call_id = await create_call(gql, owner["token"], profile["id"])
    upload = await upload_path(gql, owner["token"], call_id)

    await suspend(runtime, account, "recorded a client without consent", actor="operator:test")

    read = await gql(ME, token=owner["token"])
    assert "errors" not in read, read
    assert read["data"]["me"]["account"]["status"] == "SUSPENDED"
    assert [p["name"] for p in read["data"]["clientProfiles"]] == ["Before the suspension"]

    assert _refused(await gql(CREATE_PROFILE, {"name": "During"}, token=owner["token"]))
    assert _refused(await gql(CREATE_UPLOAD, {"callId": call_id}, token=owner["token"]))
    assert _refused(await gql(ENROLL_TOTP, token=owner["token"]))
    invite = {"input": {"email": "new@example.com", "role": "MEMBER"}}
    assert _refused(await gql(INVITE, invite, token=owner["token"]))
    # An upload URL handed out before the suspension is refused too, and stores nothing.
    put = await api.put(
        upload, content=wav_bytes(b"\0" * 64), headers={"content-type": "audio/wav"}
    )
    assert put.status_code == 403, put.text
    assert put.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    after = await gql(ME, token=owner["token"])
    assert [p["name"] for p in after["data"]["clientProfiles"]] == ["Before the suspension"]

    # Signing in and out still works.
    logged_in = await gql(LOG_IN, {"input": {"email": owner["email"], "password": PASSWORD}})
    assert "errors" not in logged_in, logged_in
    assert (await gql(LOG_OUT, token=logged_in["data"]["logIn"]["token"]))["data"] == {
        "logOut": True
    }

    await unsuspend(runtime, account, actor="operator:test")
    writable = await gql(CREATE_PROFILE, {"name": "After"}, token=owner["token"])
    assert "errors" not in writable, writable
