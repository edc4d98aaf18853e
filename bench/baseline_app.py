"""The scale bench's baseline: the same GraphQL query shapes as Audora's, served bare.

Strawberry + SQLAlchemy (async psycopg) over plain tables in one schema (`baseline`) of
the same PostgreSQL, holding the same rows as the tenants' schemas, in clear. No
authentication (the bearer token *is* the tenant's id, taken as given), no tenant
binding, no roles or permissions, no audit, access log or sealing. Served by uvicorn in
one process, over the same TLS as `audora serve`, with the same pool: its size, its
order (most recently used first) and its closing of idle connections, so that between
rounds its idle backends cost the sign-ups' DDL no more than Audora's.

`python bench/baseline_app.py --database-url URL --port P --cert C --key K` serves it;
`create_tables(url)` makes its tables (the bench fills them).
"""

from __future__ import annotations

import argparse
import enum
import ssl
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import strawberry
import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.types import Info

SCHEMA = "baseline"
TABLES = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.client_profiles (
        id uuid PRIMARY KEY, tenant_id uuid NOT NULL, name text NOT NULL,
        contact_email text, notes text, budget text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now())""",
    f"CREATE INDEX IF NOT EXISTS client_profiles_tenant ON {SCHEMA}.client_profiles "
    "(tenant_id, created_at)",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.calls (
        id uuid PRIMARY KEY, tenant_id uuid NOT NULL, client_profile_id uuid NOT NULL,
        title text NOT NULL, status text NOT NULL, transcript text,
        created_at timestamptz NOT NULL DEFAULT now())""",
    f"CREATE INDEX IF NOT EXISTS calls_profile ON {SCHEMA}.calls "
    "(tenant_id, client_profile_id, created_at)",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.documents (
        id uuid PRIMARY KEY, tenant_id uuid NOT NULL, call_id uuid NOT NULL,
        kind text NOT NULL, title text NOT NULL, markdown text NOT NULL,
        version int NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.document_versions (
        document_id uuid NOT NULL, version int NOT NULL, markdown text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (document_id, version))""",
)


def create_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            for statement in TABLES:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


@strawberry.enum
class CallStatus(enum.Enum):
    AWAITING_RECORDING = "AWAITING_RECORDING"
    TRANSCRIBING = "TRANSCRIBING"
    GENERATING = "GENERATING"
    READY = "READY"
    FAILED = "FAILED"


@strawberry.enum
class DocumentKind(enum.Enum):
    PRD = "PRD"
    TASK_LIST = "TASK_LIST"
    SOW = "SOW"
    CLIENT_BRIEF = "CLIENT_BRIEF"


PERCENT = {"AWAITING_RECORDING": 0, "TRANSCRIBING": 30, "GENERATING": 80, "READY": 100}


@strawberry.type
class Progress:
    stage: CallStatus
    percent: int


@strawberry.type
class ClientProfile:
    id: strawberry.ID
    name: str
    contact_email: str | None
    notes: str | None
    budget: str | None
    created_at: datetime
    updated_at: datetime


@strawberry.type
class Call:
    id: strawberry.ID
    client_profile_id: strawberry.ID
    title: str
    status: CallStatus
    created_at: datetime

    @strawberry.field
    def progress(self) -> Progress:
        return Progress(stage=self.status, percent=PERCENT.get(self.status.value, 0))


@strawberry.type
class Document:
    id: strawberry.ID
    call_id: strawberry.ID
    kind: DocumentKind
    title: str
    markdown: str
    version: int
    updated_at: datetime


@strawberry.input
class UpdateDocumentInput:
    id: strawberry.ID
    markdown: str
    expected_version: int | None = None


@dataclass
class Context:
    engine: AsyncEngine
    tenant: uuid.UUID


def _tenant(info: Info[Context, None]) -> uuid.UUID:
    return info.context.tenant


def _id(public: str) -> uuid.UUID:
    """The row's UUID from a public id (`doc_<hex>`), as the ids Audora hands out."""
    return uuid.UUID(hex=public.partition("_")[2])


def _public(prefix: str, value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(f"{prefix}_{value.hex}")


def _call(row: Any) -> Call:
    return Call(
        id=_public("cal", row.id),
        client_profile_id=_public("cli", row.client_profile_id),
        title=row.title,
        status=CallStatus(row.status),
        created_at=row.created_at,
    )


def _document(row: Any) -> Document:
    return Document(
        id=_public("doc", row.id),
        call_id=_public("cal", row.call_id),
        kind=DocumentKind(row.kind),
        title=row.title,
        markdown=row.markdown,
        version=row.version,
        updated_at=row.updated_at,
    )


@strawberry.type
class Query:
    @strawberry.field
    async def client_profiles(self, info: Info[Context, None]) -> list[ClientProfile]:
        async with info.context.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    f"SELECT * FROM {SCHEMA}.client_profiles WHERE tenant_id = :t "  # noqa: S608
                    "ORDER BY created_at LIMIT 500"
                ),
                {"t": _tenant(info)},
            )
            return [
                ClientProfile(
                    id=_public("cli", r.id),
                    name=r.name,
                    contact_email=r.contact_email,
                    notes=r.notes,
                    budget=r.budget,
                    created_at=r.created_at,
                    updated_at=r.updated_at,
                )
                for r in rows
            ]

    @strawberry.field
    async def calls(
        self, info: Info[Context, None], client_profile_id: strawberry.ID
    ) -> list[Call]:
        async with info.context.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    f"SELECT * FROM {SCHEMA}.calls WHERE tenant_id = :t "  # noqa: S608
                    "AND client_profile_id = :p ORDER BY created_at"
                ),
                {"t": _tenant(info), "p": _id(client_profile_id)},
            )
            return [_call(r) for r in rows]

    @strawberry.field
    async def call(self, info: Info[Context, None], id: strawberry.ID) -> Call:
        async with info.context.engine.connect() as conn:
            row = (
                await conn.execute(
                    text(f"SELECT * FROM {SCHEMA}.calls WHERE tenant_id = :t AND id = :id"),  # noqa: S608
                    {"t": _tenant(info), "id": _id(id)},
                )
            ).one()
            return _call(row)

    @strawberry.field
    async def document(self, info: Info[Context, None], id: strawberry.ID) -> Document:
        async with info.context.engine.connect() as conn:
            row = (
                await conn.execute(
                    text(f"SELECT * FROM {SCHEMA}.documents WHERE tenant_id = :t AND id = :id"),  # noqa: S608
                    {"t": _tenant(info), "id": _id(id)},
                )
            ).one()
            return _document(row)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def update_document(
        self, info: Info[Context, None], input: UpdateDocumentInput
    ) -> Document:
        async with info.context.engine.begin() as conn:
            row = (
                await conn.execute(
                    text(
                        f"UPDATE {SCHEMA}.documents SET markdown = :m, version = version + 1, "  # noqa: S608
                        "updated_at = now() WHERE tenant_id = :t AND id = :id RETURNING *"
                    ),
                    {"t": _tenant(info), "id": _id(input.id), "m": input.markdown},
                )
            ).one()
            await conn.execute(
                text(
                    f"INSERT INTO {SCHEMA}.document_versions (document_id, version, markdown) "  # noqa: S608
                    "VALUES (:d, :v, :m)"
                ),
                {"d": row.id, "v": row.version, "m": input.markdown},
            )
            return _document(row)


class BaselineGraphQL(GraphQL[Context, None]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(strawberry.Schema(query=Query, mutation=Mutation), graphql_ide=None)
        self.engine = engine

    async def get_context(self, request: Any, response: Any) -> Context:
        header = request.headers.get("authorization", "")
        return Context(self.engine, uuid.UUID(hex=header.removeprefix("Bearer ").strip()))


def create_app(
    database_url: str, pool_size: int, max_overflow: int, idle_session_seconds: int
) -> Starlette:
    from audora.platform.db.idle_connections import idle_closing_engine

    engine = idle_closing_engine(
        database_url, idle_session_seconds, pool_size=pool_size, max_overflow=max_overflow
    )
    graphql = BaselineGraphQL(engine)

    async def healthz(request: Request) -> Any:
        from starlette.responses import JSONResponse

        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)]
    )


def _tls(
    cert: Path, key: Path
) -> Callable[[uvicorn.Config, Callable[[], ssl.SSLContext]], ssl.SSLContext]:
    from audora.platform.tls.server_context import server_ssl_context

    def factory(config: uvicorn.Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        return server_ssl_context(cert, key)

    return factory


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--max-overflow", type=int, default=10)
    parser.add_argument("--idle-session-seconds", type=int, default=60)
    args = parser.parse_args(argv)
    config = uvicorn.Config(
        create_app(args.database_url, args.pool_size, args.max_overflow, args.idle_session_seconds),
        host="127.0.0.1",
        port=args.port,
        ssl_context_factory=_tls(args.cert, args.key),
        log_level="warning",
        lifespan="on",
    )
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
