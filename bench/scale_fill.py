"""The scale bench's data: what each tenant holds, written through the real services.

Per tenant (kept small so 10,000 tenants fill in minutes): two client profiles (name,
contact, notes, budget, sealed), one call each, marked READY, with its transcript
(sealed text and timed segments) and its four documents (PRD, task list, SOW, client
brief; sealed Markdown and JSON, each with its first version): 2 profiles, 2 calls,
2 transcripts, 8 documents. The calls are the project's fixture calls
(tests/fixtures/calls), their documents made once by the embedded generator from those
transcripts; every tenant seals them under its own data keys.

The baseline gets the same rows, with the same ids, in clear in its one schema.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from baseline_app import SCHEMA
from sqlalchemy import create_engine, text

from audora.platform import ids
from audora.platform.auth.principal import Principal, Role
from audora.platform.auth.service import ClientInfo, open_session
from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import TenantSchema
from audora.platform.runtime import Runtime
from audora.tenants.calls import repository as calls_repository
from audora.tenants.calls.content import Segment, Transcript, store_document, store_transcript
from audora.tenants.calls.service import CallStatus, Consent, ConsentMethod, create_call
from audora.tenants.clients.service import ClientProfileChanges, create_profile
from audora.tenants.documents.embedded import EmbeddedGenerator
from audora.tenants.documents.generator import CallContext, GeneratedDocument

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "calls"
CALLS = ("brightside-dental", "northwind-logistics")
CALL_DATE = date(2026, 3, 4)
BUDGETS = ("48k USD", "120k EUR")
BENCH_AGENT = "audora-bench"


@dataclass(frozen=True)
class FixtureCall:
    title: str
    client: str
    transcript: Transcript
    documents: tuple[GeneratedDocument, ...]


@dataclass
class TenantData:
    """One tenant as the load generator needs it."""

    account_id: uuid.UUID
    owner_id: uuid.UUID
    schema: TenantSchema
    token: str = ""
    profiles: list[uuid.UUID] = field(default_factory=list)
    calls: list[uuid.UUID] = field(default_factory=list)
    documents: list[uuid.UUID] = field(default_factory=list)

    def plan_entry(self, *, baseline: bool) -> dict[str, Any]:
        """The tenant in a load plan: its bearer token (for the baseline, which has no
        sessions, the tenant's id) and its objects' public ids, the same for both."""
        return {
            "token": self.account_id.hex if baseline else self.token,
            "profiles": [ids.encode(ids.Kind.CLIENT_PROFILE, i) for i in self.profiles],
            "calls": [ids.encode(ids.Kind.CALL, i) for i in self.calls],
            "documents": [ids.encode(ids.Kind.DOCUMENT, i) for i in self.documents],
        }


async def fixture_calls() -> tuple[FixtureCall, ...]:
    made = []
    for name in CALLS:
        data = json.loads((FIXTURES / f"{name}.json").read_text())
        segments = tuple(
            Segment(float(i * 5), float(i * 5 + 5), speaker, said)
            for i, (speaker, said) in enumerate(data["turns"])
        )
        transcript = Transcript(" ".join(s.text for s in segments), segments)
        context = CallContext(data["title"], data["client"], CALL_DATE)
        documents = await EmbeddedGenerator().generate(transcript, context)
        made.append(FixtureCall(data["title"], data["client"], transcript, tuple(documents)))
    return tuple(made)


def _owner(runtime: Runtime, tenant: TenantData) -> Principal:
    return Principal(
        session_id=uuid.uuid4(),
        user_id=tenant.owner_id,
        email="owner@example.com",
        full_name="Bench Owner",
        account_id=tenant.account_id,
        account_name="Bench",
        account_status="ACTIVE",
        role=Role.OWNER,
        tenant=TenantRef(tenant.schema),
        client_profile_ids=None,
    )


async def fill_tenant(
    runtime: Runtime, tenant: TenantData, corpus: tuple[FixtureCall, ...]
) -> None:
    """The tenant's profiles, calls, transcripts and documents, in one transaction."""
    owner = _owner(runtime, tenant)
    consent = Consent(True, (ConsentMethod.VERBAL,), "EU")
    async with tenant_transaction(runtime.tenant_engines, owner.tenant) as uow:
        for call, budget in zip(corpus, BUDGETS, strict=True):
            profile = await create_profile(
                uow,
                runtime.keys,
                owner,
                ClientProfileChanges(
                    name=call.client,
                    contact_email=f"pm@{call.client.split()[0].lower()}.example.com",
                    notes=call.transcript.segments[4].text,
                    budget=budget,
                ),
            )
            made = await create_call(uow, owner, profile.id, call.title, consent)
            await store_transcript(uow, runtime.keys, tenant.account_id, made.id, call.transcript)
            for document in call.documents:
                tenant.documents.append(
                    await store_document(
                        uow,
                        runtime.keys,
                        tenant.account_id,
                        made.id,
                        document.kind,
                        document.title,
                        document.markdown,
                        document.structured,
                    )
                )
            await calls_repository.set_status(uow, made.id, CallStatus.READY.value)
            tenant.profiles.append(profile.id)
            tenant.calls.append(made.id)
        await uow.commit()
    issued = await open_session(
        runtime.platform_engine,
        runtime.clock,
        user_id=tenant.owner_id,
        account_id=tenant.account_id,
        client=ClientInfo("127.0.0.1", BENCH_AGENT),
        limit=runtime.settings.session_limit,
        idle=runtime.settings.session_idle,
    )
    tenant.token = issued.token


async def fill(
    runtime: Runtime, tenants: list[TenantData], corpus: tuple[FixtureCall, ...], concurrency: int
) -> None:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(tenant: TenantData) -> None:
        async with semaphore:
            await fill_tenant(runtime, tenant, corpus)

    await asyncio.gather(*(one(t) for t in tenants))


def fill_baseline(
    database_url: str, tenants: list[TenantData], corpus: tuple[FixtureCall, ...]
) -> None:
    """The same rows in the baseline's plain tables: same ids, same text, in clear."""
    profiles, calls, documents = [], [], []
    for tenant in tenants:
        for i, call in enumerate(corpus):
            profiles.append(
                {
                    "id": tenant.profiles[i],
                    "t": tenant.account_id,
                    "name": call.client,
                    "email": f"pm@{call.client.split()[0].lower()}.example.com",
                    "notes": call.transcript.segments[4].text,
                    "budget": BUDGETS[i],
                }
            )
            calls.append(
                {
                    "id": tenant.calls[i],
                    "t": tenant.account_id,
                    "p": tenant.profiles[i],
                    "title": call.title,
                    "transcript": call.transcript.text,
                }
            )
            for j, document in enumerate(call.documents):
                documents.append(
                    {
                        "id": tenant.documents[i * len(call.documents) + j],
                        "t": tenant.account_id,
                        "c": tenant.calls[i],
                        "kind": document.kind.value,
                        "title": document.title,
                        "md": document.markdown,
                    }
                )
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO {SCHEMA}.client_profiles "  # noqa: S608
                    "(id, tenant_id, name, contact_email, notes, budget) "
                    "VALUES (:id, :t, :name, :email, :notes, :budget)"
                ),
                profiles,
            )
            conn.execute(
                text(
                    f"INSERT INTO {SCHEMA}.calls "  # noqa: S608
                    "(id, tenant_id, client_profile_id, title, status, transcript) "
                    "VALUES (:id, :t, :p, :title, 'READY', :transcript)"
                ),
                calls,
            )
            conn.execute(
                text(
                    f"INSERT INTO {SCHEMA}.documents "  # noqa: S608
                    "(id, tenant_id, call_id, kind, title, markdown, version) "
                    "VALUES (:id, :t, :c, :kind, :title, :md, 1)"
                ),
                documents,
            )
            conn.execute(
                text(
                    f"INSERT INTO {SCHEMA}.document_versions (document_id, version, markdown) "  # noqa: S608
                    f"SELECT id, 1, markdown FROM {SCHEMA}.documents WHERE id = ANY(:ids)"
                ),
                {"ids": [d["id"] for d in documents]},
            )
    finally:
        engine.dispose()
