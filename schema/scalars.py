"""Scalars beyond GraphQL's own, mapped onto Python types in the schema's config."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

# GraphQL's Int is 32-bit; recordings run to gigabytes.
ByteCount = NewType("ByteCount", int)

SCALARS: dict[object, ScalarDefinition] = {
    ByteCount: strawberry.scalar(
        name="ByteCount",
        description="A number of bytes, as a JSON integer (may exceed 32 bits).",
        serialize=int,
        parse_value=int,
    ),
}
