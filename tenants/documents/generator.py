"""The document generator interface: one call's transcript in, its project documents out.

A generator sees exactly what is passed here: this call's transcript and this call's own
title and client name. Nothing else reaches it, so no context crosses calls or accounts
(P3), and a generator keeps no state between calls: each `generate` starts from nothing.

What the call did not say becomes an open question in the documents, never invented
content. The embedded default is a deterministic offline extractor; a hosted generator
(an OpenAI-compatible chat API) can stand beside it, chosen by settings.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from audora.tenants.calls.content import DocumentKind, Transcript

ALL_KINDS: frozenset[DocumentKind] = frozenset(DocumentKind)


@dataclass(frozen=True)
class CallContext:
    """What a generator may know besides the transcript: this call's own labels."""

    call_title: str
    client_name: str
    call_date: date


@dataclass(frozen=True)
class GeneratedDocument:
    kind: DocumentKind
    title: str
    markdown: str
    # The same content as JSON, for integrations (the task list's items go to Linear).
    structured: dict[str, Any]


class DocumentGenerator(Protocol):
    async def generate(
        self,
        transcript: Transcript,
        context: CallContext,
        kinds: Collection[DocumentKind] = ALL_KINDS,
    ) -> Sequence[GeneratedDocument]:
        """One document per kind in `kinds`, built from `transcript` and `context` only."""
        ...
