"""Markdown from the document models; both generators' documents go through here.

Every budget figure and budget question is written under a heading that starts with
"Budget" ("## Budget and payment schedule" in the SOW, "## Budget" in the brief), the one
place the pipeline hides from seats without `financials:read`. No other section reads
the `budget` field.

An empty section says so ("Not discussed on the call"); the matching question is in
"Open questions" (or, for the budget, in the budget section itself).
"""

from __future__ import annotations

from collections.abc import Iterable

from audora.tenants.calls.content import DocumentKind
from audora.tenants.documents.complete import budget_line
from audora.tenants.documents.dates import display
from audora.tenants.documents.generator import CallContext
from audora.tenants.documents.models import (
    OWNER_NOT_NAMED,
    Budget,
    ClientBrief,
    DatedItem,
    Document,
    Prd,
    Sow,
    TaskList,
)

TITLES = {
    DocumentKind.PRD: "Product requirements",
    DocumentKind.TASK_LIST: "Task list",
    DocumentKind.SOW: "Statement of work",
    DocumentKind.CLIENT_BRIEF: "Client brief",
}
EMPTY = "_Not discussed on the call (see open questions)._"


def title(kind: DocumentKind, context: CallContext) -> str:
    return f"{TITLES[kind]}: {context.call_title}"


def render(kind: DocumentKind, doc: Document, context: CallContext) -> str:
    """The Markdown of `doc`, a model of document `kind`."""
    lines = [
        f"# {title(kind, context)}",
        "",
        f"Client: {context.client_name} · Call of {context.call_date.isoformat()}",
        "",
    ]
    if isinstance(doc, Prd):
        lines += _prd(doc)
    elif isinstance(doc, TaskList):
        lines += _tasks(doc)
    elif isinstance(doc, Sow):
        lines += _sow(doc)
    else:
        lines += _brief(doc)
    return "\n".join(lines).rstrip() + "\n"


def _section(heading: str, items: Iterable[str], *, empty: str = EMPTY) -> list[str]:
    body = [f"- {item}" for item in items] or [empty]
    return [f"## {heading}", "", *body, ""]


def _at(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = int(seconds)
    return (
        f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
        if whole >= 3600
        else (f"{whole // 60}:{whole % 60:02d}")
    )


def _prd(doc: Prd) -> list[str]:
    lines = _section("Problem", doc.problem)
    lines += _section("Goals", doc.goals)
    lines += _section("Users", doc.users)
    lines += ["## Requirements", ""]
    if not doc.requirements:
        lines += [EMPTY, ""]
    for level, heading in (
        ("must", "Must have"),
        ("should", "Should have"),
        ("could", "Could have"),
    ):
        chosen = [r for r in doc.requirements if r.priority == level]
        if not chosen:
            continue
        lines += [f"### {heading}", ""]
        for i, r in enumerate(chosen, 1):
            lines.append(f"{i}. {r.statement} (said at {_at(r.source_seconds)})")
            lines += [f"   - Acceptance: {c}" for c in r.acceptance_criteria]
        lines.append("")
    lines += _section("Non-goals", doc.non_goals)
    lines += _section("Integrations", doc.integrations)
    lines += _section("Constraints", doc.constraints)
    lines += _section("Risks", doc.risks)
    lines += _section("Open questions", doc.open_questions, empty="_None._")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _tasks(doc: TaskList) -> list[str]:
    lines = ["## Action items", ""]
    if not doc.items:
        lines += [EMPTY, ""]
    else:
        lines += [
            "| # | Task | Owner | Due | Priority | Said at |",
            "|---|---|---|---|---|---|",
        ]
        for i, item in enumerate(doc.items, 1):
            due = "not set on the call"
            if item.due_said:
                due = f"{item.due_said} ({item.due_date})" if item.due_date else item.due_said
            owner = item.owner or OWNER_NOT_NAMED
            lines.append(
                f"| {i} | {_cell(item.title)} | {_cell(owner)} | {_cell(due)} "
                f"| {item.priority} | {_at(item.source_seconds)} |"
            )
        lines.append("")
    lines += _section("Open questions", doc.open_questions, empty="_None._")
    return lines


def _dated(items: Iterable[DatedItem]) -> list[str]:
    return [f"{display(d.date, d.said)}: {d.what}" for d in items]


def _budget(heading: str, budget: Budget) -> list[str]:
    lines = [f"## {heading}", ""]
    line = budget_line(budget)
    if line is not None:
        lines.append(f"- Total: {line}")
    lines += [f"- Payment schedule: {p}" for p in budget.payment_schedule]
    lines += [f"- Also said: {n}" for n in budget.notes]
    lines += [f"- Open question: {q}" for q in budget.open_questions]
    return [*lines, ""]


def _sow(doc: Sow) -> list[str]:
    lines = _section("Background", doc.background)
    lines += _section("Scope", doc.scope)
    lines += _section("Out of scope", doc.out_of_scope)
    lines += ["## Deliverables", ""]
    if not doc.deliverables:
        lines += [EMPTY]
    for i, d in enumerate(doc.deliverables, 1):
        lines.append(f"{i}. {d.name}")
        lines += [f"   - Acceptance: {c}" for c in d.acceptance_criteria]
    lines.append("")
    lines += _section("Timeline and milestones", [*_dated(doc.timeline), *doc.milestones])
    lines += _budget("Budget and payment schedule", doc.budget)
    lines += _section("Assumptions", doc.assumptions)
    lines += _section("Client responsibilities", doc.client_responsibilities)
    lines += _section("Change control", doc.change_control)
    lines += _section("Open questions", doc.open_questions, empty="_None._")
    return lines


def _brief(doc: ClientBrief) -> list[str]:
    lines = _section("Overview", doc.overview)
    lines += _section("Objectives", doc.objectives)
    lines += _section("Audience", doc.audience)
    lines += _section("Deliverables", doc.deliverables)
    lines += _section("Timeline", _dated(doc.timeline))
    lines += _budget("Budget", doc.budget)
    lines += _section("Mandatory constraints", doc.mandatory_constraints)
    lines += _section("Open questions", doc.open_questions, empty="_None._")
    return lines
