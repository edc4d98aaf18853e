"""Budget figures hidden from seats without financials:read.

The generators put every budget figure of a statement of work or a client brief under
a Markdown heading that starts with "Budget" ("Budget", "Budget and payment schedule"),
and under a `budget` key (or `payment_schedule`) of the structured JSON. For a caller
without financials:read, each such section, heading included (a heading can carry a
figure), becomes a "Budget" heading of the same level and one line saying what it
needs, and those keys are dropped at every depth. The rule applies to every kind of
document: only the SOW and brief have such sections by design, but an edit may add one
anywhere.

A section is its heading and everything up to the next heading of the same or a higher
level. ATX (`## Budget`) and setext (`Budget` over `---`) headings count; lines inside
fenced code blocks are not headings. A heading "starts with Budget" after leading
numbering and emphasis (`4. **Budget**`), in any case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

HIDDEN_NOTICE = "_Hidden: budget figures need the financials:read permission._"
# Structured keys that hold money, at any depth, compared without case, "_" or "-";
# any key starting with "budget" counts too.
FINANCIAL_KEYS = frozenset({"budget", "paymentschedule", "rates"})

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LEADING = re.compile(r"^[\W\d_]+")


@dataclass(frozen=True)
class _Heading:
    line: int  # the first line of the heading
    end: int  # the line after it (setext headings take two)
    level: int
    text: str


def _headings(lines: list[str]) -> list[_Heading]:
    found: list[_Heading] = []
    fence: str | None = None
    for i, line in enumerate(lines):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        atx = _ATX.match(line)
        if atx:
            found.append(_Heading(i, i + 1, len(atx.group(1)), atx.group(2) or ""))
            continue
        underline = _SETEXT.match(lines[i + 1]) if i + 1 < len(lines) else None
        if (
            underline
            and line.strip()
            and not _ATX.match(line)
            and not re.match(r"^ {0,3}([-*+]|\d+[.)])\s", line)
            and (not found or found[-1].end <= i)
        ):
            level = 1 if underline.group(1).startswith("=") else 2
            found.append(_Heading(i, i + 2, level, line.strip()))
    return found


def is_budget_heading(text: str) -> bool:
    return _LEADING.sub("", text).lower().startswith("budget")


def _budget_sections(lines: list[str]) -> list[tuple[int, int, int]]:
    """(first line, end line, level) of each budget section, outermost only."""
    headings = _headings(lines)
    sections: list[tuple[int, int, int]] = []
    covered = 0
    for n, heading in enumerate(headings):
        if heading.line < covered or not is_budget_heading(heading.text):
            continue
        end = next(
            (h.line for h in headings[n + 1 :] if h.level <= heading.level),
            len(lines),
        )
        sections.append((heading.line, end, heading.level))
        covered = end
    return sections


def has_budget_sections(markdown: str) -> bool:
    return bool(_budget_sections(markdown.split("\n")))


def redact_markdown(markdown: str) -> str:
    """`markdown` with each budget section replaced by its placeholder."""
    lines = markdown.split("\n")
    sections = _budget_sections(lines)
    if not sections:
        return markdown
    out: list[str] = []
    at = 0
    for start, end, level in sections:
        out.extend(lines[at:start])
        out.extend([f"{'#' * level} Budget", "", HIDDEN_NOTICE, ""])
        at = end
    out.extend(lines[at:])
    return "\n".join(out)


def _financial(key: str) -> bool:
    plain = key.replace("-", "").replace("_", "").lower()
    return plain in FINANCIAL_KEYS or plain.startswith("budget")


def redact_structured(value: Any) -> Any:
    """`value` without financial keys, at every depth."""
    if isinstance(value, dict):
        return {k: redact_structured(v) for k, v in value.items() if not _financial(k)}
    if isinstance(value, list):
        return [redact_structured(v) for v in value]
    return value
