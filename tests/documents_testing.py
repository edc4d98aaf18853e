"""What the document tests share: a scripted generator (the real ones are tested with
their own module) and calls brought straight to GENERATING or READY."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.calls import repository as calls
from audora.tenants.calls.content import DocumentKind, Segment, Transcript, store_transcript
from audora.tenants.documents.generator import ALL_KINDS, CallContext, GeneratedDocument
from audora.tenants.documents.jobs import generate_documents_job
from audora.tenants.transcription.sweep import expect_generation

from audora_testing import GraphQL, create_call, create_profile, raw_id, schema_of, sign_up

BUDGET_FIGURE = "48,000 USD"


@dataclass
class ScriptedGenerator:
    """Writes each document from the transcript's first segment and the call's labels,
    with the budget under a "Budget" heading and key as the real generators do; fails
    its first `failures` calls, quoting the transcript as a provider's error might."""

    failures: int = 0
    seen: list[tuple[Transcript, CallContext, frozenset[DocumentKind]]] = field(
        default_factory=list
    )

    async def generate(
        self,
        transcript: Transcript,
        context: CallContext,
        kinds: Collection[DocumentKind] = ALL_KINDS,
    ) -> Sequence[GeneratedDocument]:
        self.seen.append((transcript, context, frozenset(kinds)))
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError(f"provider refused: {transcript.text[:60]}")
        said = transcript.segments[0].text if transcript.segments else transcript.text
        out = []
        for kind in sorted(kinds):
            markdown = f"# {kind.value}: {context.call_title}\n\nFor {context.client_name}.\n\n"
            markdown += f"## Scope\n\n- {said}\n"
            structured: dict[str, Any] = {"scope": [said]}
            if kind in (DocumentKind.SOW, DocumentKind.CLIENT_BRIEF):
                markdown += (
                    f"\n## Budget and payment schedule\n\n- Total: {BUDGET_FIGURE}\n"
                    "- Two payments\n\n## Timeline\n\n- Launch by June 15\n"
                )
                structured["budget"] = {"total": BUDGET_FIGURE}
            out.append(
                GeneratedDocument(
                    kind, f"{kind.value} for {context.client_name}", markdown, structured
                )
            )
        return out


def tenant_of(account_id: str) -> TenantRef:
    return TenantRef(validate_tenant_schema(schema_of(account_id)))


async def generating_call(
    gql: GraphQL, runtime: Runtime, name: str = "Pipeline Studio", said: str = "Online booking"
) -> dict[str, Any]:
    """An owner's call with a stored transcript, in its first generation round (as the
    transcription job leaves it, without the minutes of audio)."""
    owner = await sign_up(gql, name)
    profile = await create_profile(gql, owner["token"], "Brightside Dental")
    call_id = await create_call(gql, owner["token"], profile["id"], "Discovery")
    # The mark the call's upload would have made (tenants/registry/due_work.py).
    await expect_generation(runtime, raw_id(owner["account"]["id"]))
    async with tenant_transaction(runtime.tenant_engines, tenant_of(owner["account"]["id"])) as uow:
        await store_transcript(
            uow,
            runtime.keys,
            raw_id(owner["account"]["id"]),
            raw_id(call_id),
            Transcript(said, (Segment(0.0, 2.0, None, said),)),
        )
        round_id = await calls.begin_generation(
            uow, raw_id(call_id), runtime.clock.now(), kinds=None
        )
        await uow.commit()
    return {**owner, "call_id": call_id, "profile_id": profile["id"], "round": round_id}


async def generate(runtime: Runtime, owner: dict[str, Any], **ctx: Any) -> str:
    """One delivery of the call's generation job, now, in this process."""
    return await generate_documents_job(
        {"runtime": runtime, "generator": ctx.pop("generator", ScriptedGenerator()), **ctx},
        str(raw_id(owner["account"]["id"])),
        str(raw_id(owner["call_id"])),
    )


async def ready_call(gql: GraphQL, runtime: Runtime, name: str = "Ready Studio") -> dict[str, Any]:
    owner = await generating_call(gql, runtime, name)
    assert (await generate(runtime, owner)).startswith("generated")
    return owner
