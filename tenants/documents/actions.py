"""Action items: who took on what, and by when.

A commitment ("I will send you the SOW by Friday") is the speaker's, when the segment
is labelled, or the writer's of a "Sam: ..." line; a request addressed by name ("Leo,
could you send us the API docs?", "Kim, please send the logo") is the addressee's;
"Yes, I will ... tomorrow" right after a request is the addressee's answer, merged into
that one item. With no label and no name, the owner is None: the documents say "owner
not named on the call" rather than guess. Due words are kept as said, with the date they resolve to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from audora.tenants.documents import sentences as sent
from audora.tenants.documents.dates import DateMention, find_dates
from audora.tenants.documents.models import TaskItem, TaskPriority
from audora.tenants.documents.phrases import clauses, mask_money
from audora.tenants.documents.sentences import People, Sentence

COMMITMENT = re.compile(
    r"\b(?:i will|i'll|i can|i am going to|i'm going to|let me|we will|we'll|i shall)\s+"
    r"(?!be\b|need\b|have\b|want\b|double\b)(?P<rest>\w.*)",
    re.IGNORECASE,
)
REQUEST = re.compile(r"\b(?:can|could|would|will) you\s+(?:please\s+)?(?P<rest>\w.*)", re.I)
# "Kim, please send ...": a request too, once it is addressed by name to a task verb.
PLEASE = re.compile(r"\bplease\s+(?P<rest>\w.*)", re.I)
TASK_VERBS = re.compile(
    r"^(?:send|share|provide|prepare|schedule|book|set up|review|check|confirm|get|forward|"
    r"introduce|draft|create|write|update|look|find|arrange|organi[sz]e|email|call|invite)\b",
    re.IGNORECASE,
)
ACCEPT = re.compile(
    r"^\W*(?:yes|yeah|yep|sure|ok|okay|will do|of course|absolutely|no problem)\b", re.I
)
URGENT = re.compile(
    r"\b(?:asap|as soon as possible|urgent|urgently|right away|immediately)\b", re.I
)


@dataclass
class ActionReader:
    sentences: list[Sentence]
    people: People
    call_date: date

    def read(self) -> tuple[list[TaskItem], list[str]]:
        """The call's action items, and the client's responsibilities among them (what
        a client-side speaker took on, or what the client was asked to send us)."""
        items: list[TaskItem] = []
        open_requests: dict[str, tuple[int, int]] = {}  # owner → (item index, sentence index)
        client_side: list[int] = []
        for s in self.sentences:
            for clause in clauses(s.text):
                made = self._action(clause, s, open_requests)
                if made is None:
                    continue
                item, kind = made
                merge = (
                    open_requests.pop(item.owner, None)
                    if item.owner and kind == "commitment"
                    else None
                )
                if merge is not None and s.index - merge[1] <= 2:
                    earlier = items[merge[0]]
                    items[merge[0]] = replace(
                        earlier,
                        due_said=item.due_said or earlier.due_said,
                        due_date=item.due_date or earlier.due_date,
                        priority=item.priority if item.due_said else earlier.priority,
                    )
                    continue
                if kind == "request" and item.owner:
                    open_requests[item.owner] = (len(items), s.index)
                items.append(item)
                label = (s.label or "").lower()
                to_us = re.search(r"\b(?:send|give|provide|share with|get) us\b", clause, re.I)
                if (kind == "commitment" and "client" in label) or (kind == "request" and to_us):
                    client_side.append(len(items) - 1)
        responsibilities = [
            f"{items[i].owner or 'The client (owner not named on the call)'}: {items[i].title}"
            for i in client_side
        ]
        return items, responsibilities

    def _action(
        self, clause: str, s: Sentence, open_requests: dict[str, tuple[int, int]]
    ) -> tuple[TaskItem, str] | None:
        owner: str | None
        if (name := sent.addressed(clause)) and (
            request := REQUEST.search(clause) or PLEASE.search(clause)
        ):
            rest, kind = request.group("rest"), "request"
            if not TASK_VERBS.match(rest) and not find_dates(rest, self.call_date):
                return None
            owner = self.people.canonical(name) or name
        elif commitment := COMMITMENT.search(clause):
            rest, kind = commitment.group("rest"), "commitment"
            owner = self.people.canonical(s.speaker) or s.speaker
            written = re.match(r"^\W*([A-Z][a-z'-]+)\s*:", s.text)  # "Sam: I will ..."
            if owner is None and written:
                owner = self.people.canonical(written.group(1))
            if owner is None and (own := sent.introduced(s.text)):  # "I'm Sam, I will ..."
                owner = self.people.canonical(own)
            if owner is None and ACCEPT.match(clause):
                # "Yes, I will ..." right after "Leo, could you ...": Leo answers.
                recent = [o for o, (_, at) in open_requests.items() if s.index - at <= 2]
                owner = recent[-1] if len(recent) == 1 else None
        else:
            third = re.search(
                r"\b(?P<name>[A-Z][a-z]+) (?:will|is going to|is to) (?P<rest>\w.*)", clause
            )
            if not third or self.people.canonical(third.group("name")) is None:
                return None
            rest, kind = third.group("rest"), "commitment"
            owner = self.people.canonical(third.group("name"))
        due = next((d for d in find_dates(rest, self.call_date)), None)
        title = _task_title(rest, due)
        if len(title.split()) < 2:
            return None
        return (
            TaskItem(
                title=mask_money(title),
                owner=owner,
                due_said=due.said if due else None,
                due_date=due.iso if due else None,
                priority=_task_priority(clause, due, self.call_date),
                source_seconds=s.start_seconds,
            ),
            kind,
        )


def _task_title(rest: str, due: DateMention | None) -> str:
    text = rest
    if due is not None:
        text = text.replace(due.said, " ")
    # "by" before the due words, or what recognisers make of it ("I Friday", "my June").
    text = re.sub(
        r"\s+\b(?:by|on|before|until|for|no later than|i|my)\s*(?=[.?!,]?\s*$)",
        "",
        text.strip(),
        flags=re.I,
    )
    text = re.sub(
        r"^(\w+)\s+(?:you|us|me|them)\s+(?=(?:the|a|an|our|your|my|\w+)\b)",
        r"\1 ",
        text,
        flags=re.I,
    )
    text = re.sub(r"\s+", " ", text).strip(" .,?!")
    return text[:1].upper() + text[1:]


def _task_priority(clause: str, due: DateMention | None, today: date) -> TaskPriority:
    if URGENT.search(clause):
        return "high"
    if due is None or due.iso is None:
        return "low" if due is None else "medium"
    days = (date.fromisoformat(due.iso) - today).days
    return "high" if days <= 1 else "medium" if days <= 7 else "low"
