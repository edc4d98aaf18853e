from __future__ import annotations

import strawberry


@strawberry.input
class UpdateDocumentInput:
    id: strawberry.ID
    markdown: str
    expected_version: int | None = strawberry.field(
        default=None,
        description="The version the edit was made on; if the document has moved on "
        "since, the edit is refused with CONFLICT and nothing is written.",
    )
