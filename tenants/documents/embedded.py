"""The embedded document generator, the default: the offline extractor (extractor.py)
reads the call, `complete.build` fills each kind's model, `render` writes its Markdown.

Deterministic and stateless: nothing but the transcript and the call's own labels goes
in, nothing is kept between calls (P3), and the same input always gives the same
documents. No network, no model weights: it runs wherever the worker runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence

from audora.tenants.calls.content import DocumentKind, Transcript
from audora.tenants.documents.complete import build
from audora.tenants.documents.extractor import extract
from audora.tenants.documents.generator import ALL_KINDS, CallContext, GeneratedDocument
from audora.tenants.documents.models import Document, as_json
from audora.tenants.documents.render import render, title


def document(kind: DocumentKind, model: Document, context: CallContext) -> GeneratedDocument:
    """A filled model as the pipeline stores it: title, Markdown and JSON."""
    return GeneratedDocument(
        kind=kind,
        title=title(kind, context),
        markdown=render(kind, model, context),
        structured=as_json(model),
    )


def ordered(kinds: Collection[DocumentKind]) -> list[DocumentKind]:
    """`kinds` in the enum's order, so output order never depends on a set's."""
    return [kind for kind in DocumentKind if kind in kinds]


class EmbeddedGenerator:
    """`DocumentGenerator` on the offline extractor."""

    async def generate(
        self,
        transcript: Transcript,
        context: CallContext,
        kinds: Collection[DocumentKind] = ALL_KINDS,
    ) -> Sequence[GeneratedDocument]:
        # Pure CPU work, a fraction of a second for an hour's call: off the event loop, so
        # the worker's other jobs keep running meanwhile.
        return await asyncio.to_thread(_generate, transcript, context, ordered(kinds))


def _generate(
    transcript: Transcript, context: CallContext, kinds: list[DocumentKind]
) -> list[GeneratedDocument]:
    extraction = extract(transcript.segments, context.call_date)
    return [document(kind, build(extraction, context, kind), context) for kind in kinds]
