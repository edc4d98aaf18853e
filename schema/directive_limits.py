"""Directive overloading (OWASP GraphQL cheat sheet): a document may carry only a few
directives, and never the same one twice at one place. Checked before validation, so a
document stacking hundreds of directives costs one error, not one per directive."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import DirectiveNode, DocumentNode, GraphQLError, Visitor, visit
from strawberry.extensions import SchemaExtension


class _Directives(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.repeated: str | None = None

    def enter(self, node: Any, *_: Any) -> None:
        directives: tuple[DirectiveNode, ...] = getattr(node, "directives", None) or ()
        if not directives:
            return
        self.count += len(directives)
        names = [d.name.value for d in directives]
        if self.repeated is None:
            self.repeated = next((n for n in names if names.count(n) > 1), None)


def directive_problem(document: DocumentNode, max_directives: int) -> str | None:
    """Why `document` is refused for its directives, or None."""
    found = _Directives()
    visit(document, found)
    if found.repeated is not None:
        return f"the directive @{found.repeated} is repeated at one location"
    if found.count > max_directives:
        return (
            f"the document carries {found.count} directives, past the directive limit "
            f"of {max_directives}"
        )
    return None


def directive_limiter(max_directives: int) -> type[SchemaExtension]:
    class DirectiveLimiter(SchemaExtension):
        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            document = context.graphql_document
            if document is not None and context.pre_execution_errors is None:
                problem = directive_problem(document, max_directives)
                if problem is not None:
                    # Set before validation runs, it stands in for validation's verdict
                    # (Strawberry validates only when no errors are there yet).
                    context.pre_execution_errors = [GraphQLError(problem)]
            yield

    return DirectiveLimiter
