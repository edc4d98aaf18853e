"""The one shape check for free text a person types (names, reasons, reports): trimmed,
not empty, bounded, and free of control characters that logs, mail headers and
terminals would interpret."""

from __future__ import annotations

from audora.platform.errors import bad_input

_LINE_BREAKS = "\n\r\t"


def clean_text(value: str | None, *, field: str, limit: int, multiline: bool = False) -> str:
    value = (value or "").strip()
    if not value:
        raise bad_input(f"{field} must not be empty", field=field)
    if len(value) > limit:
        raise bad_input(f"{field} must be at most {limit} characters", field=field)
    allowed = _LINE_BREAKS if multiline else ""
    if any(ord(c) < 32 and c not in allowed for c in value):
        raise bad_input(f"{field} must not contain control characters", field=field)
    return value
