"""The structured model of each document kind. Both generators fill these, and
`render.py` turns them into Markdown, so a document reads the same whichever made it;
`GeneratedDocument.structured` is the model as a JSON-able dict (`as_json`).

Budget figures live in exactly one place: the `budget` field (a `Budget`), which is the
top-level "budget" key of the SOW's and the client brief's JSON and is rendered only
under headings that start with "Budget" ("## Budget and payment schedule", "## Budget").
The pipeline hides those sections and that key from seats without `financials:read`, so
no other field may carry a sum of money: the extractor keeps money out of every other
field, and text quoted elsewhere has its amounts masked (`phrases.mask_money`).

What the call did not say is an open question, never invented content: an empty list
means "not discussed", and `complete.py` adds the matching open question.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

Priority = Literal["must", "should", "could"]
TaskPriority = Literal["high", "medium", "low"]
OWNER_NOT_NAMED = "owner not named on the call"


@dataclass(frozen=True)
class Requirement:
    statement: str
    priority: Priority
    acceptance_criteria: tuple[str, ...]
    # Where in the call it was said (segment start, seconds); None when not known.
    source_seconds: float | None


@dataclass(frozen=True)
class DatedItem:
    """Something due at a time, with the words as said and the date they resolve to."""

    what: str
    said: str
    date: str | None  # ISO 8601, when the call's date settles it
    source_seconds: float | None


@dataclass(frozen=True)
class Budget:
    amount: int | None  # whole units of `currency`
    currency: str | None  # ISO 4217
    said: str | None  # the words as said: "forty eight thousand dollars"
    payment_schedule: tuple[str, ...]
    notes: tuple[str, ...]
    open_questions: tuple[str, ...]


@dataclass(frozen=True)
class Deliverable:
    name: str
    acceptance_criteria: tuple[str, ...]


@dataclass(frozen=True)
class Prd:
    problem: tuple[str, ...]
    goals: tuple[str, ...]
    users: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    non_goals: tuple[str, ...]
    integrations: tuple[str, ...]
    constraints: tuple[str, ...]
    risks: tuple[str, ...]
    open_questions: tuple[str, ...]


@dataclass(frozen=True)
class TaskItem:
    title: str
    owner: str | None  # None: OWNER_NOT_NAMED
    due_said: str | None  # the due words as said: "Friday", "next week"
    due_date: str | None  # ISO 8601, when the call's date settles it
    priority: TaskPriority
    source_seconds: float | None


@dataclass(frozen=True)
class TaskList:
    items: tuple[TaskItem, ...]
    open_questions: tuple[str, ...]


@dataclass(frozen=True)
class Sow:
    background: tuple[str, ...]
    scope: tuple[str, ...]
    out_of_scope: tuple[str, ...]
    deliverables: tuple[Deliverable, ...]
    timeline: tuple[DatedItem, ...]
    milestones: tuple[str, ...]
    budget: Budget
    assumptions: tuple[str, ...]
    client_responsibilities: tuple[str, ...]
    change_control: tuple[str, ...]
    open_questions: tuple[str, ...]


@dataclass(frozen=True)
class ClientBrief:
    overview: tuple[str, ...]
    objectives: tuple[str, ...]
    audience: tuple[str, ...]
    deliverables: tuple[str, ...]
    timeline: tuple[DatedItem, ...]
    budget: Budget
    mandatory_constraints: tuple[str, ...]
    open_questions: tuple[str, ...]


Document = Prd | TaskList | Sow | ClientBrief


def as_json(document: Document) -> dict[str, Any]:
    """The model as plain JSON values (tuples become lists)."""
    data: dict[str, Any] = json.loads(json.dumps(asdict(document)))
    return data
