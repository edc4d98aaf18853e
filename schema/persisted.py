"""Persisted documents, an option (OWASP GraphQL cheat sheet): a deployment may give the
API a manifest of the documents its own frontends send, keyed by their SHA-256, and
then accept only those. Clients name a document by `documentId` ("sha256:<hex>", as in
the GraphQL-over-HTTP trusted documents proposal) or by Apollo's
`extensions.persistedQuery.sha256Hash`; the query text then need not travel at all."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

PREFIX = "sha256:"


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class PersistedDocuments:
    by_hash: Mapping[str, str]
    hashes: frozenset[str]

    def resolve(self, payload: Mapping[str, Any]) -> str | None:
        """The document `payload` names, None if it names none; a ValueError says why
        a request is refused."""
        wanted = requested_hash(payload)
        if wanted is None:
            return None
        document = self.by_hash.get(wanted)
        if document is None:
            raise ValueError(f"no persisted document {PREFIX}{wanted}")
        query = payload.get("query")
        if query is not None and query != document:
            raise ValueError("`query` differs from the persisted document it names")
        return document


def requested_hash(payload: Mapping[str, Any]) -> str | None:
    document_id = payload.get("documentId")
    extensions = payload.get("extensions")
    apollo = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if document_id is None and isinstance(apollo, dict):
        document_id = apollo.get("sha256Hash")
    if document_id is None:
        return None
    if not isinstance(document_id, str):
        raise ValueError("`documentId` must be a string")
    digest = document_id.removeprefix(PREFIX).lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("`documentId` must be sha256:<64 hex digits>")
    return digest


def digest(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


@cache
def load_manifest(path: Path) -> PersistedDocuments:
    """The manifest at `path`: a JSON object of "sha256:<hex>" (or "<hex>") to document.
    Every key must be its document's hash, so a manifest cannot map a known id to
    something else."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ManifestError(f"cannot read the persisted documents {path}: {exc}") from None
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ManifestError(f"{path} must be a JSON object of document ids to documents")
    by_hash: dict[str, str] = {}
    for key, document in raw.items():
        wanted = key.removeprefix(PREFIX).lower()
        if digest(document) != wanted:
            raise ManifestError(f"{path}: {key} is not the SHA-256 of its document")
        by_hash[wanted] = document
    return PersistedDocuments(by_hash, frozenset(by_hash))


def persisted_only(hashes: frozenset[str]) -> type[SchemaExtension]:
    """Refuses, over HTTP and WebSocket alike, any document not in the manifest."""

    class PersistedOnly(SchemaExtension):
        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            query = context.query
            if context.pre_execution_errors is None and (
                query is None or digest(query) not in hashes
            ):
                context.pre_execution_errors = [
                    GraphQLError(
                        "only persisted documents are accepted here: send `documentId` "
                        "(sha256:<hex>) of a document the deployment's manifest holds"
                    )
                ]
            yield

    return PersistedOnly
