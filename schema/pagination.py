"""Relay-style connections: `PageInfo` and opaque cursors.

A cursor is base64url (unpadded) of `<list>:<position>`, where the position is the
list's own stable key (the audit log's `seq`). Opaque to clients, which must only hand
back what they were given; it is no secret and not signed, since a forged cursor can only
name a position in a list the caller may read anyway. A cursor of another list, or
anything that is not a cursor, is BAD_USER_INPUT.
"""

from __future__ import annotations

import base64
import binascii
import re

import strawberry

from audora.platform.errors import bad_input

_MAX_CURSOR = 64
_POSITION = re.compile(r"\A[1-9][0-9]{0,18}\Z")
_MAX_POSITION = 2**63 - 1


@strawberry.type(description="Where a page of a connection sits in the whole list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool = strawberry.field(
        description="Always false: connections here page forward only (first/after)."
    )
    start_cursor: str | None
    end_cursor: str | None


def encode_cursor(list_name: str, position: int) -> str:
    raw = f"{list_name}:{position}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(list_name: str, cursor: str, *, field: str = "after") -> int:
    """The position `cursor` names in `list_name`."""
    refusal = bad_input(f"{field} is not a cursor of this list", field=field)
    if not cursor or len(cursor) > _MAX_CURSOR:
        raise refusal
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise refusal from None
    name, _, position = raw.partition(":")
    if name != list_name or not _POSITION.match(position) or int(position) > _MAX_POSITION:
        raise refusal
    return int(position)
