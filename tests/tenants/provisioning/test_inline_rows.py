"""Tables whose rows always fit in a page are made without a TOAST table (making them
was 18% of PostgreSQL's CPU in a sign-up at 10,000 tenants); what goes into them stays
within a page, and a row that would not is refused whole."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from audora.platform.db.inline_rows import variable_length
from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.input_text import MAX_REASON, bounded_reason
from audora.platform.runtime import Runtime
from audora.tenants.calls import repository as calls_repository
from audora.tenants.calls.tables import calls
from audora.tenants.tables import TENANT_TABLES

from audora_testing import (
    GraphQL,
    column_storage,
    create_call,
    create_profile,
    raw_id,
    schema_of,
    sign_up,
)

INLINE = {
    "audit_chain",
    "calls",
    "data_exports",
    "data_keys",
    "integration_pushes",
    "reencryptions",
}


def _tenant(owner: dict[str, Any]) -> TenantRef:
    return TenantRef(validate_tenant_schema(schema_of(owner["account"]["id"])))


async def test_a_new_tenant_has_toast_tables_only_where_a_value_can_outgrow_a_page(
    gql: GraphQL, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Inline Rows")
    with superuser.connect() as conn:
        tables = dict(
            conn.execute(
                text(
                    "SELECT c.relname, c.reltoastrelid <> 0 FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :s AND c.relkind = 'r'"
                ),
                {"s": schema_of(owner["account"]["id"])},
            ).all()
        )
    storage = column_storage(superuser, schema_of(owner["account"]["id"]))
    assert {t.name for t in TENANT_TABLES if t.info.get("inline_rows")} == INLINE
    # Every other table with a variable-length column keeps its TOAST table (the access
    # log has none: its columns are all short VARCHARs, which PostgreSQL bounds).
    toastable = {
        t.name
        for t in TENANT_TABLES
        if t.name not in INLINE and any(variable_length(c) for c in t.columns)
    } - {"access_log"}
    assert {name for name, toast in tables.items() if toast} == toastable
    assert len(toastable) == 9
    assert not any(tables[name] for name in INLINE)
    by_column = {(table, column): kind for table, column, kind in storage}
    for table in TENANT_TABLES:
        for column in table.columns:
            if table.name in INLINE and variable_length(column):
                assert by_column[table.name, column.name] == "p", (table.name, column.name)


def test_a_reason_is_stored_at_most_500_characters_long() -> None:
    assert bounded_reason("the transcriber stopped") == "the transcriber stopped"
    assert bounded_reason("x" * MAX_REASON) == "x" * MAX_REASON
    clipped = bounded_reason("😬" * 100_000)
    assert len(clipped) == MAX_REASON
    assert clipped.endswith("…")
    # Four bytes a character at most in UTF-8: a reason never takes a quarter of a page.
    assert len(clipped.encode()) <= 2_000


async def test_a_calls_failure_reason_longer_than_its_row_can_hold_is_stored_clipped(
    gql: GraphQL, runtime: Runtime
) -> None:
    owner = await sign_up(gql, "Long Reason")
    profile = await create_profile(gql, owner["token"], "Client")
    call_id = raw_id(await create_call(gql, owner["token"], profile["id"], "Kickoff " * 25))
    async with tenant_transaction(runtime.tenant_engines, _tenant(owner)) as uow:
        await calls_repository.set_status(uow, call_id, "FAILED", "😬" * 100_000)
        await uow.commit()
    async with tenant_transaction(runtime.tenant_engines, _tenant(owner)) as uow:
        stored = (
            await uow.execute(select(calls.c.failure_reason).where(calls.c.id == call_id))
        ).scalar_one()
    assert stored == "😬" * (MAX_REASON - 1) + "…"


async def test_a_row_too_long_for_its_page_is_refused_by_postgresql_itself(
    gql: GraphQL, runtime: Runtime
) -> None:
    owner = await sign_up(gql, "Too Long")
    profile = await create_profile(gql, owner["token"], "Client")
    call_id = raw_id(await create_call(gql, owner["token"], profile["id"]))
    # Past every bound the code keeps (plain SQL, which the `Reason` type does not clip):
    # the row is refused, not stored in part or cut.
    async with tenant_transaction(runtime.tenant_engines, _tenant(owner)) as uow:
        with pytest.raises(DBAPIError, match="row is too big"):
            await uow.execute(
                text("UPDATE calls SET failure_reason = repeat('x', 9000) WHERE id = :id"),
                {"id": call_id},
            )
