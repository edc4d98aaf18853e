"""Outbound delivery records are kept 30 days after their push finished: just before,
kept; just after, gone. A push still waiting or sending is never touched, and what the
push made at its destination (the link that makes the next push an update) stays."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine, text

from audora.platform.clock import FrozenClock
from audora.platform.runtime import Runtime
from audora.tenants.integrations.retention import delete_finished_pushes

from audora_testing import GraphQL, create_call, create_profile, raw_id, schema_of, sign_up

SECOND = timedelta(seconds=1)


async def test_finished_pushes_are_deleted_30_days_after_they_finish_and_not_before(
    gql: GraphQL, runtime: Runtime, superuser: Engine, clock: FrozenClock
) -> None:
    owner = await sign_up(gql, "Delivery Studio")
    profile = await create_profile(gql, owner["token"], "Client")
    call = raw_id(await create_call(gql, owner["token"], profile["id"]))
    schema, user = schema_of(owner["account"]["id"]), raw_id(owner["user"]["id"])
    document, integration = uuid.uuid4(), uuid.uuid4()
    finished, waiting, link = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = clock.now()
    with superuser.begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO {schema}.documents (id, call_id, kind, title, markdown)"
                " VALUES (:d, :c, 'TASK_LIST', 'Tasks', '\\x00')"
            ),
            {"d": document, "c": call},
        )
        conn.execute(
            text(
                f"INSERT INTO {schema}.integrations (id, kind, name, config, credential,"
                " credential_hint, created_by) VALUES (:i, 'WEBHOOK', 'Hook', '\\x00', '\\x00',"
                " '...', :u)"
            ),
            {"i": integration, "u": user},
        )
        for push, status, at in ((finished, "DONE", now), (waiting, "CONFIRMED", None)):
            conn.execute(
                text(
                    f"INSERT INTO {schema}.integration_pushes (id, integration_id, document_id,"
                    " document_version, item_count, status, prepared_by, prepared_at,"
                    " finished_at) VALUES (:p, :i, :d, 1, 3, :s, :u, :now, :at)"
                ),
                {
                    "p": push,
                    "i": integration,
                    "d": document,
                    "s": status,
                    "u": user,
                    "now": now,
                    "at": at,
                },
            )
        conn.execute(
            text(
                f"INSERT INTO {schema}.integration_links (id, integration_id, document_id,"
                " external_ids) VALUES (:l, :i, :d, '\\x00')"
            ),
            {"l": link, "i": integration, "d": document},
        )

    def pushes() -> set[uuid.UUID]:
        with superuser.connect() as conn:
            return set(conn.execute(text(f"SELECT id FROM {schema}.integration_pushes")).scalars())

    tenant = raw_id(owner["account"]["id"])
    for delta, expected in (
        (timedelta(days=30) - SECOND, {finished, waiting}),
        (timedelta(days=30) + SECOND, {waiting}),
    ):
        clock.advance(delta)
        try:
            await delete_finished_pushes(runtime, tenant)
        finally:
            clock.advance(-delta)
        assert pushes() == expected
    with superuser.connect() as conn:
        links = conn.execute(text(f"SELECT id FROM {schema}.integration_links")).scalars()
        assert list(links) == [link]
