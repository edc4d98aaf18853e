"""The embedded generator's reading of a call: a deterministic, offline extractor over the
transcript's sentences. No model, no network, no state: the same transcript and call
date always give the same `Extraction`.

It reads clauses for requirements (need / must / has to → must; should / want → should;
nice to have / could → could), integrations (product names after "sync with", "comes
from", "system is", or before "API"), sums of money (digits or words), dates and due
words, constraints (HIPAA, privacy, compliance ...), risks ("the main risk is ..."),
and action items with their owners and due words.

It copes with what speech recognition does to a call: no capitals, missing punctuation,
numbers as digits or words ("48,000", "forty-eight thousand"), sentences cut across
segments, spelled-out names ("SAM-SAR-A" → "Samsara"), slightly misspelt names. What it
cannot read it leaves out; `complete.py` turns what is missing into open questions.

Money stays in the budget: a clause that mentions a sum or the budget feeds only the
budget, and any amount quoted elsewhere is masked (`mask_money`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from audora.tenants.calls.content import Segment
from audora.tenants.documents import sentences as sent
from audora.tenants.documents.dates import DateMention, find_dates
from audora.tenants.documents.models import (
    DatedItem,
    Priority,
    Requirement,
    TaskItem,
    TaskPriority,
)
from audora.tenants.documents.numbers import Money, find_money
from audora.tenants.documents.sentences import People, Sentence

MONEY_WORDS = re.compile(
    r"\b(?:budget|set aside|spend|cost|costs|price|pricing|fee|fees|invest|funding|quote|"
    r"paid|pay|payment|payments|invoice|dollars?|euros?|pounds?)\b|[$€£]",
    re.IGNORECASE,
)
COULD = re.compile(
    r"nice[- ]to[- ]have|would be nice|\bcould\b|if possible|optional|\bbonus\b|\bideally\b",
    re.I,
)
MUST = re.compile(
    r"\bmust\b|\bhas to\b|\bhave to\b|\bneeds?\b|\brequired\b|\brequirement\b|\bessential\b|"
    r"\bcritical\b|\bmandatory\b|\bcan't (?:do )?without\b",
    re.IGNORECASE,
)
SHOULD = re.compile(r"\bshould\b|\bwants?\b|\bwould like\b|\bwe'd like\b|\bexpect\b", re.I)
PRIORITY_ONLY = re.compile(
    r"^\W*(?:and\s+)?(?:that|this|it)(?:'s| is)\s+(?:a\s+|an\s+|really\s+|absolutely\s+)*"
    r"(?P<what>must[- ]have|essential|critical|mandatory|nice[- ]to[- ]have|optional|"
    r"should[- ]have|important)\b",
    re.IGNORECASE,
)
CONSTRAINT = re.compile(
    r"hipaa|gdpr|ccpa|soc ?2|pci|iso ?27001|privacy|\bprivate\b|complian|regulat|sensitive|"
    r"confidential|secur|encrypt|consent|accessib|wcag|data residency|on[- ]prem|off shift|"
    r"must not|mustn't|cannot|can't|\bnever\b|has to stop|have to stop|must stop",
    re.IGNORECASE,
)
RISK = re.compile(
    r"\b(?:the\s+|a\s+|one\s+|our\s+|my\s+|main\s+|biggest\s+|big\s+|key\s+)*"
    r"(?:risks?|concerns?|worry|worried)\b(?:\s+is|\s+are|\s+that|\s+about)?\s*[:,]?\s*(?P<rest>.*)",
    re.IGNORECASE,
)
PROBLEM = re.compile(
    r"\bstill\b|\bcurrently\b|\bright now\b|spreadsheet|\bmanual|by hand|by phone|\bproblem\b|"
    r"\bpain\b|struggl|takes too long|error[- ]prone|double[- ]book",
    re.IGNORECASE,
)
GOAL = re.compile(
    r"\b(?:goal|aim|objective)s?\b|\bso that\b|\bin order to\b|"
    r"\b(?:want|wants|would like|hope|plan|need)\s+to\s+(?:launch|go live|reduce|increase|"
    r"improve|replace|move|cut|grow|speed|stop|get rid|be live)\b|\bbe live\b|\blaunch\b",
    re.IGNORECASE,
)
NON_GOAL = re.compile(
    r"out of scope|not in scope|\bdon't need\b|\bdo not need\b|\bdoesn't need\b|no need for|"
    r"not (?:needed|required|a priority|part of)|won't need|later phase|phase two|not now|"
    r"leave (?:that |it )?out|\bskip\b",
    re.IGNORECASE,
)
ASSUMPTION = re.compile(
    r"\bassum|\bwe expect\b|\bpresumably\b|\bwe(?:'ll| will) provide\b|\balready have\b",
    re.IGNORECASE,
)
NOT_CONTENT = re.compile(r"\brecord(?:ed|ing)\b|\bthis call\b|\bmaking time\b", re.I)
USER_ROLES = (
    "patients", "dentists", "doctors", "nurses", "clinicians", "front desk", "receptionists",
    "staff", "dispatchers", "drivers", "managers", "admins", "administrators", "customers",
    "users", "employees", "technicians", "agents", "students", "teachers", "members",
    "visitors", "buyers", "sellers", "operators", "accountants", "sales team", "support team",
)  # fmt: skip
COMMITMENT = re.compile(
    r"\b(?:i will|i'll|i can|i am going to|i'm going to|let me|we will|we'll|i shall)\s+"
    r"(?!be\b|need\b|have\b|want\b|double\b)(?P<rest>\w.*)",
    re.IGNORECASE,
)
REQUEST = re.compile(r"\b(?:can|could|would|will) you\s+(?:please\s+)?(?P<rest>\w.*)", re.I)
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
FORMATS = {"csv", "pdf", "json", "xml", "sms", "gps", "api", "it", "ok", "i"}


@dataclass(frozen=True)
class BudgetFinding:
    money: Money | None
    source_seconds: float | None
    payment_schedule: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Extraction:
    people: People
    problem: tuple[str, ...]
    goals: tuple[str, ...]
    users: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    non_goals: tuple[str, ...]
    integrations: tuple[str, ...]
    constraints: tuple[str, ...]
    risks: tuple[str, ...]
    assumptions: tuple[str, ...]
    deadlines: tuple[DatedItem, ...]
    budget: BudgetFinding
    actions: tuple[TaskItem, ...]
    client_responsibilities: tuple[str, ...]


def mask_money(text: str) -> str:
    """`text` with every sum of money replaced, for sections a seat without financials
    may read."""
    out = text
    for money in reversed(find_money(text)):
        out = out[: money.start] + "[amount in the budget section]" + out[money.end :]
    return out


SPELLED = re.compile(r"\b[A-Z]{1,4}(?:-[A-Z]{1,4}){2,}\b")


def normalise(texts: Sequence[str]) -> list[str]:
    """Undo what speech recognition does to spelled-out names, over a whole call:
    "SAM-SAR-A" → "Samsara", and "SAM-SAR-A-B-I" → "Samsara API" (its "A-P-I" heard as
    "A-B-I", the name's last letter and the A of API run together)."""
    known = {"".join(t.split("-")) for text in texts for t in SPELLED.findall(text)}

    def word(letters: str) -> str:
        return letters.capitalize() if len(letters) > 3 else letters

    def fix(m: re.Match[str]) -> str:
        pieces = m.group(0).split("-")
        if len(pieces) > 3 and pieces[-2:] in (["P", "I"], ["B", "I"]) and pieces[-3] == "A":
            for name in ("".join(pieces[:-3]), "".join(pieces[:-2])):
                if name in known:
                    return f"{word(name)} API"
            return f"{word(''.join(pieces[:-3]))} API"
        return word("".join(pieces))

    return [SPELLED.sub(fix, text) for text in texts]


def clauses(text: str) -> list[str]:
    """A sentence cut where a new statement starts: ", and they must ...", "; ", ": "."""
    parts = re.split(
        r",?\s+(?:and|but)\s+(?=(?:\w+\s+){0,3}?(?:must|should|need|needs|has to|have to|want|"
        r"wants|will|would like)\b)|,\s+(?:and|but)\s+|;\s*|:\s+",
        text,
    )
    return [p.strip(" ,") for p in parts if p and re.search(r"\w", p)]


def _sentence(text: str) -> str:
    """A clause as a sentence, without the fillers that opened it ("So", "Sure, ")."""
    text = text.strip().rstrip(",;:")
    text = re.sub(
        r"^(?:(?:so|and|but|also|then|sure|yes|yeah|okay|ok|well|great|right)\b[,]?\s+)+",
        "",
        text,
        flags=re.I,
    )
    text = text[:1].upper() + text[1:]
    return text if re.search(r"[.?!]$", text) else text + "."


def _has_money(text: str) -> bool:
    return bool(MONEY_WORDS.search(text) or find_money(text))


def _priority(clause: str) -> Priority | None:
    if COULD.search(clause):
        return "could"
    if MUST.search(clause):
        return "must"
    if SHOULD.search(clause):
        return "should"
    return None


def _criteria(clause: str) -> tuple[str, ...]:
    """The verifiable part of a requirement, as said: "patients pick a clinic, a dentist
    and a time slot" in "an online booking app where patients pick ..."."""
    m = re.search(
        r"\b(?:where|so that|that lets|which lets|so|to|that)\s+(?P<what>.{12,})$", clause
    )
    said = clause.rstrip(".")
    if m:
        return (f"Shown working: {m.group('what').rstrip('.')} (as asked on the call).",)
    return (f"Shown working as asked on the call: “{said}”.",)


@dataclass
class _Reader:
    sentences: list[Sentence]
    people: People
    call_date: date

    def read(self) -> Extraction:
        requirements: list[Requirement] = []
        found: dict[str, list[str]] = {k: [] for k in ("problem", "goals", "non_goals",
            "constraints", "risks", "assumptions", "integrations")}  # fmt: skip
        deadlines: list[DatedItem] = []
        asked: Sentence | None = None  # a question about needs, awaiting its answer
        for s in self.sentences:
            text = s.text
            if text.rstrip().endswith("?"):
                needs = MUST.search(text) or SHOULD.search(text)
                asked = s if needs and not REQUEST.search(text) else None
                continue
            if risk := RISK.search(text):
                found["risks"].append(_sentence(risk.group("rest") or text))
            for clause in clauses(text):
                self._read_clause(clause, s, requirements, found, deadlines)
            if asked is not None and not COMMITMENT.search(text):
                rest = re.sub(r"^\W*(?:yes|yeah|sure|yep)\b\W*", "", text, flags=re.I)
                if rest != text and len(rest.split()) < 3:
                    continue  # a bare "Yes." : the answer goes on in the next sentence
                self._answered_need(asked, rest, s, requirements)
            asked = None
        actions, responsibilities = self._actions()
        return Extraction(
            people=self.people,
            problem=_unique(found["problem"]),
            goals=_unique(found["goals"]),
            users=self._users(requirements, found["problem"]),
            requirements=tuple(requirements),
            non_goals=_unique(found["non_goals"]),
            integrations=_integrations(self.sentences),
            constraints=_unique(found["constraints"]),
            risks=_unique(found["risks"]),
            assumptions=_unique(found["assumptions"]),
            deadlines=tuple(deadlines),
            budget=self._budget(),
            actions=tuple(actions),
            client_responsibilities=tuple(responsibilities),
        )

    def _read_clause(
        self,
        clause: str,
        s: Sentence,
        requirements: list[Requirement],
        found: dict[str, list[str]],
        deadlines: list[DatedItem],
    ) -> None:
        if NOT_CONTENT.search(clause) or _has_money(clause):
            return
        if (
            COMMITMENT.search(clause)
            or REQUEST.search(clause)
            or re.match(r"^\W*next steps?\W*$", clause, re.I)
        ):
            return
        if only := PRIORITY_ONLY.match(clause):
            if requirements:
                word = only.group("what").lower()
                level: Priority = (
                    "could" if ("nice" in word or "optional" in word)
                    else "should" if "should" in word else "must"
                )  # fmt: skip
                requirements[-1] = replace(requirements[-1], priority=level)
            return
        said = _sentence(clause)
        risk = RISK.search(clause)
        if CONSTRAINT.search(clause):
            found["constraints"].append(said)
            return
        if NON_GOAL.search(clause):
            found["non_goals"].append(said)
            return
        if ASSUMPTION.search(clause):
            found["assumptions"].append(said)
        dated = [d for d in find_dates(clause, self.call_date) if d.calendar]
        if dated:
            for d in dated:
                deadlines.append(DatedItem(_what(clause, d), d.said, d.iso, s.start_seconds))
            found["goals"].append(said)
            return
        if GOAL.search(clause):
            found["goals"].append(said)
        if PROBLEM.search(clause) and not MUST.search(clause) and not SHOULD.search(clause):
            found["problem"].append(said)
            return
        if risk:
            return
        priority = _priority(clause)
        if priority is not None and len(clause.split()) >= 4:
            requirements.append(Requirement(said, priority, _criteria(clause), s.start_seconds))
        elif PROBLEM.search(clause):
            found["problem"].append(said)

    def _answered_need(
        self, question: Sentence, rest: str, answer: Sentence, reqs: list[Requirement]
    ) -> None:
        """ "Do managers need reporting?" "Yes. Weekly delivery reports ..." is a requirement."""
        priority = _priority(question.text)
        if priority is None or len(rest.split()) < 3 or _has_money(rest):
            return
        if any(r.statement == _sentence(rest) for r in reqs):
            return
        reqs.append(Requirement(_sentence(rest), priority, _criteria(rest), answer.start_seconds))

    def _users(self, reqs: Sequence[Requirement], problem: Sequence[str]) -> tuple[str, ...]:
        text = " ".join([*(r.statement for r in reqs), *problem]).lower()
        hits = [(text.find(role), role) for role in USER_ROLES if re.search(rf"\b{role}\b", text)]
        return tuple(role.capitalize() for _, role in sorted(hits))

    def _budget(self) -> BudgetFinding:
        primary: tuple[Money, float] | None = None
        schedule: list[str] = []
        notes: list[str] = []
        for s in self.sentences:
            budgetary = bool(MONEY_WORDS.search(s.text))
            for money in find_money(s.text, assume_currency=budgetary):
                if primary is None and budgetary:
                    primary = (money, s.start_seconds)
                elif primary is None or money.said != primary[0].said:
                    notes.append(_sentence(s.text))
            if budgetary or find_money(s.text):
                for m in re.finditer(
                    r"\b(?:split|paid|payable|in)\s+(?:into\s+|in\s+)?(?:\w+\s+){0,2}?"
                    r"(?:phases|installments|instalments|payments|milestones|tranches)\b"
                    r"|\b(?:upfront|up front|deposit|monthly|per month|on delivery|net \d+)\b",
                    s.text,
                    re.IGNORECASE,
                ):
                    schedule.append(_sentence(m.group(0)))
        if primary is None:
            return BudgetFinding(None, None, tuple(schedule), _unique(notes))
        return BudgetFinding(primary[0], primary[1], tuple(schedule), _unique(notes))

    def _actions(self) -> tuple[list[TaskItem], list[str]]:
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
        if (name := sent.addressed(clause)) and (request := REQUEST.search(clause)):
            rest, kind = request.group("rest"), "request"
            if not TASK_VERBS.match(rest) and not find_dates(rest, self.call_date):
                return None
            owner = self.people.canonical(name) or name
        elif commitment := COMMITMENT.search(clause):
            rest, kind = commitment.group("rest"), "commitment"
            owner = self.people.canonical(s.speaker) or s.speaker
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


def _what(clause: str, mention: DateMention) -> str:
    """What is due at a date: the clause without the date words."""
    text = clause.replace(mention.said, " ")
    text = re.sub(r"\b(?:by|on|before|until|in|my)\s*(?=[,.]|$|\s+(?:before|,))", "", text)
    return _sentence(re.sub(r"\s+([,.])", r"\1", re.sub(r"\s+", " ", text)).strip(" ,"))


def _integrations(sentences: Sequence[Sentence]) -> tuple[str, ...]:
    name = r"(?P<name>[A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*)?)"
    patterns = [
        re.compile(rf"\b{name}\s+(?P<api>APIs?|api)\b"),
        re.compile(r"\b(?P<name>[a-z][a-z0-9]{2,})\s+(?P<api>api)\b"),
        re.compile(
            r"\b(?:sync|synchroni[sz]e|integrate|connect|link|import|export|pull|push)\w*\b"
            rf"(?:\s+\w+){{0,4}}?\s+(?:with|to|from|into)\s+(?:the\s+|our\s+|their\s+)?{name}"
        ),
        re.compile(rf"\b(?:system|platform|software|tool|crm|erp|provider|vendor)\s+is\s+{name}"),
        re.compile(rf"\b(?:comes?|coming)\s+from\s+(?:the\s+|our\s+)?{name}"),
        re.compile(rf"\b(?:we use|we're on|we are on|runs on|we run)\s+{name}"),
    ]
    found: dict[str, str] = {}
    for s in sentences:
        for pattern in patterns:
            for m in pattern.finditer(s.text):
                raw = m.group("name").strip(" .,")
                words = [
                    w
                    for w in raw.split()
                    if w.lower() not in FORMATS and w.lower() not in sent.NOT_NAMES
                ]
                if not words or words[0].lower() in FORMATS:
                    continue
                label = " ".join(words)
                label = label[:1].upper() + label[1:]
                if m.groupdict().get("api"):
                    label += " API"
                found.setdefault(label, _sentence(mask_money(s.text)))
    # "Samsara" and "Samsara API" are one integration: keep the longer name.
    order = list(found)
    kept: dict[str, str] = {}  # longest name → the evidence of its first mention
    for label in sorted(order, key=len, reverse=True):
        longer = next((k for k in kept if k.lower().startswith(label.lower())), None)
        if longer is None:
            kept[label] = found[label]
        elif order.index(label) < order.index(longer):
            kept[longer] = found[label]
    first = {k: min(order.index(x) for x in order if k.lower().startswith(x.lower())) for k in kept}
    return tuple(f"{k}: {kept[k]}" for k in sorted(kept, key=first.__getitem__))


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return tuple(seen)


def extract(segments: Sequence[Segment], call_date: date) -> Extraction:
    """What the call said, read from its segments alone."""
    texts = normalise([seg.text for seg in segments])
    normalised = [replace(seg, text=text) for seg, text in zip(segments, texts, strict=True)]
    sentences = sent.split(normalised)
    return _Reader(sentences, sent.people_of(sentences), call_date).read()
