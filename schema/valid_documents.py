"""Validation skipped for a query text the schema has already found valid.

Validating a document (GraphQL's own rules, then ours: depth and cost, aliases,
introspection, identity mutations standing alone, no subscriptions over HTTP) was about
a quarter of the API's CPU time per request, spent again on the same few query texts a
client sends over and over. Every one of those rules looks only at the document and at
limits fixed when the schema is built, so a text that validated cleanly against this
schema always will.

Only clean verdicts are kept: a document with errors is validated every time, so no
error object is shared between requests (later extensions edit errors in place). Texts
are remembered by their SHA-256 digest, at most `size` of them, the least recently used
dropped first, so an endpoint sent endless distinct texts holds a bounded, small set.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension


class KnownValidDocuments:
    """The digests of query texts that validated cleanly, least recently used first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._digests: OrderedDict[bytes, None] = OrderedDict()

    @staticmethod
    def digest(query: str) -> bytes:
        return hashlib.sha256(query.encode("utf-8", "surrogatepass")).digest()

    def __contains__(self, digest: bytes) -> bool:
        if digest in self._digests:
            self._digests.move_to_end(digest)
            return True
        return False

    def add(self, digest: bytes) -> None:
        self._digests[digest] = None
        if len(self._digests) > self._size:
            self._digests.popitem(last=False)


class SkipKnownValidDocuments(SchemaExtension):
    """Marks a known-valid text as validated (no errors) before strawberry validates,
    which it then skips; remembers a text that has just validated cleanly."""

    def __init__(self, known: KnownValidDocuments) -> None:
        super().__init__()
        self._known = known

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        digest = None if context.query is None else self._known.digest(context.query)
        # Never over a verdict an earlier extension has already given (a refused
        # directive overload, a document outside the persisted manifest).
        decided = context.pre_execution_errors is not None
        known = not decided and digest is not None and digest in self._known
        if known:
            context.pre_execution_errors = []
        yield
        if digest is not None and not known and context.pre_execution_errors == []:
            self._known.add(digest)
