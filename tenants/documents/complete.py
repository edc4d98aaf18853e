"""From what the call said to the four document models, and the open questions for what
it did not say.

`build` is the embedded generator's: an `Extraction` becomes each kind's model.
`complete` is both generators': whatever filled a model, every empty section gets its
open question ("Budget: not discussed on the call"), never invented content, and the
SOW's change control is the agency's standard terms, worded as such, since a call
rarely settles it and a language model must not make it up.

Budget questions stay in the budget (`Budget.open_questions`), rendered under the
"Budget" heading, so a seat without financials sees nothing of the budget, not even
that it is missing.
"""

from __future__ import annotations

import re
from dataclasses import replace

from audora.tenants.calls.content import DocumentKind
from audora.tenants.documents.extractor import MUST, SHOULD, Extraction
from audora.tenants.documents.generator import CallContext
from audora.tenants.documents.models import (
    OWNER_NOT_NAMED,
    Budget,
    ClientBrief,
    Deliverable,
    Document,
    Prd,
    Requirement,
    Sow,
    TaskList,
)
from audora.tenants.documents.numbers import money_display

NOT_DISCUSSED = "not discussed on the call"
STANDARD_CHANGE_CONTROL = (
    "The agency's standard terms (not discussed on the call): a change to scope, "
    "deliverables, timeline or budget is requested in writing by either party.",
    "The agency's standard terms: the agency answers a change request with its effect on "
    "timeline and cost; the change takes effect once both parties approve it in writing.",
)


def build(extraction: Extraction, context: CallContext, kind: DocumentKind) -> Document:
    """The model of document `kind` from what the call said."""
    e = extraction
    if kind is DocumentKind.PRD:
        doc: Document = Prd(
            problem=e.problem,
            goals=e.goals,
            users=e.users,
            requirements=e.requirements,
            non_goals=e.non_goals,
            integrations=e.integrations,
            constraints=e.constraints,
            risks=e.risks,
            open_questions=(),
        )
    elif kind is DocumentKind.TASK_LIST:
        doc = TaskList(items=e.actions, open_questions=())
    elif kind is DocumentKind.SOW:
        doc = Sow(
            background=_background(e, context),
            scope=tuple(r.statement for r in e.requirements),
            out_of_scope=e.non_goals,
            deliverables=deliverables(e.requirements),
            timeline=e.deadlines,
            milestones=(),
            budget=_budget(e),
            assumptions=e.assumptions,
            client_responsibilities=e.client_responsibilities,
            change_control=(),
            open_questions=(),
        )
    else:
        doc = ClientBrief(
            overview=_background(e, context),
            objectives=e.goals,
            audience=e.users,
            deliverables=tuple(d.name for d in deliverables(e.requirements)),
            timeline=e.deadlines,
            budget=_budget(e),
            mandatory_constraints=e.constraints,
            open_questions=(),
        )
    return complete(doc)


def _background(e: Extraction, context: CallContext) -> tuple[str, ...]:
    if not e.problem:
        return ()
    return (f"Call with {context.client_name}: “{context.call_title}”.", *e.problem)


def _budget(e: Extraction) -> Budget:
    found = e.budget
    if found.money is None:
        return Budget(None, None, None, found.payment_schedule, found.notes, ())
    money = found.money
    return Budget(money.amount, money.currency, money.said, found.payment_schedule, found.notes, ())


_NOUN = re.compile(
    r"\b(?:need|needs|want|wants|get|like|build)\s+(?:an?\s+|the\s+|some\s+)?"
    r"(?P<np>(?!to\b|be\b|able\b)[\w-]+(?:\s+(?!where|with|to|that|for|so|which|who|and|"
    r"before|after|on|in|the|of|when|from)[\w-]+){0,3})",
    re.IGNORECASE,
)
_LEADING = re.compile(r"^(?P<np>(?:[\w-]+\s+){0,3}?[\w-]+)\s+(?:that|which|where|with)\b")


def deliverables(requirements: tuple[Requirement, ...]) -> tuple[Deliverable, ...]:
    """The things a requirement asks for ("an online booking app where ..."), each with the
    acceptance criteria of the requirements that name it."""
    found: dict[str, list[str]] = {}
    for r in requirements:
        m = _NOUN.search(r.statement)
        if m is None and not (MUST.search(r.statement) or SHOULD.search(r.statement)):
            m = _LEADING.match(r.statement)
        if m is None:
            continue
        name = m.group("np").strip()
        name = name[:1].upper() + name[1:]
        key = next((k for k in found if k.lower() == name.lower()), name)
        found.setdefault(key, []).extend(r.acceptance_criteria)
    return tuple(Deliverable(name, tuple(dict.fromkeys(c))) for name, c in found.items())


def complete(doc: Document) -> Document:
    """`doc` with an open question for each section the call left empty."""
    asked = list(doc.open_questions)

    def ask(empty: object, question: str) -> None:
        if not empty and question not in asked:
            asked.append(question)

    if isinstance(doc, Prd):
        ask(doc.problem, f"Problem: {NOT_DISCUSSED}")
        ask(doc.goals, f"Goals: {NOT_DISCUSSED}")
        ask(doc.users, "Users: not named on the call")
        ask(doc.requirements, "Requirements: none stated on the call")
        ask(doc.non_goals, f"Non-goals: {NOT_DISCUSSED}")
        ask(doc.integrations, "Integrations: none named on the call")
        ask(doc.constraints, f"Constraints (compliance, privacy, hosting): {NOT_DISCUSSED}")
        ask(doc.risks, f"Risks: {NOT_DISCUSSED}")
        if doc.requirements:
            ask((), "Acceptance criteria beyond the call's own words: to be agreed with the client")
        return replace(doc, open_questions=tuple(asked))
    if isinstance(doc, TaskList):
        ask(doc.items, "Action items: none agreed on the call")
        for item in doc.items:
            ask(item.owner, f"Owner of “{item.title}”: {OWNER_NOT_NAMED}")
            ask(item.due_said, f"Due date of “{item.title}”: not set on the call")
        return replace(doc, open_questions=tuple(asked))
    if isinstance(doc, Sow):
        ask(doc.background, f"Background: {NOT_DISCUSSED}")
        ask(doc.scope, f"Scope: {NOT_DISCUSSED}")
        ask(doc.out_of_scope, f"Out of scope: {NOT_DISCUSSED}")
        ask(doc.deliverables, "Deliverables: none named on the call")
        ask(doc.timeline, f"Deadline: {NOT_DISCUSSED}")
        ask(doc.milestones, f"Intermediate milestones: {NOT_DISCUSSED}")
        ask(doc.assumptions, "Assumptions: none stated on the call")
        ask(doc.client_responsibilities, f"Client responsibilities: {NOT_DISCUSSED}")
        return replace(
            doc,
            budget=complete_budget(doc.budget),
            change_control=STANDARD_CHANGE_CONTROL,
            open_questions=tuple(asked),
        )
    ask(doc.overview, f"Overview: {NOT_DISCUSSED}")
    ask(doc.objectives, f"Objectives: {NOT_DISCUSSED}")
    ask(doc.audience, "Audience: not named on the call")
    ask(doc.deliverables, "Deliverables: none named on the call")
    ask(doc.timeline, f"Deadline: {NOT_DISCUSSED}")
    ask(doc.mandatory_constraints, f"Mandatory constraints: {NOT_DISCUSSED}")
    return replace(doc, budget=complete_budget(doc.budget), open_questions=tuple(asked))


def complete_budget(budget: Budget) -> Budget:
    asked = list(budget.open_questions)
    for empty, question in (
        (budget.amount is None, f"Budget: {NOT_DISCUSSED}"),
        (not budget.payment_schedule, f"Payment schedule: {NOT_DISCUSSED}"),
    ):
        if empty and question not in asked:
            asked.append(question)
    return replace(budget, open_questions=tuple(asked))


def budget_line(budget: Budget) -> str | None:
    """ "$48,000 (said on the call: “forty eight thousand dollars”)", or None."""
    if budget.amount is None:
        return None
    shown = money_display(budget.amount, budget.currency)
    return f"{shown} (said on the call: “{budget.said}”)" if budget.said else shown
