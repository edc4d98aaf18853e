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


# Reasons are stored in tables kept without TOAST (platform/db/inline_rows.py, whose
# `Reason` columns clip with this), whose rows must fit in a page; 500 characters is at
# most 2,000 bytes.
MAX_REASON = 500


def bounded_reason(reason: str) -> str:
    """A failure reason as stored: at most MAX_REASON characters. Reasons are the
    platform's own words, but some carry an error's text, whose length is not ours."""
    if len(reason) <= MAX_REASON:
        return reason
    return reason[: MAX_REASON - 1] + "…"
