"""The embedded generator's reading of a call: a deterministic, offline extractor over the
transcript's sentences. No model, no network, no state: the same transcript and call
date always give the same `Extraction`.

It reads clauses for requirements (need / must / has to → must; should / want → should;
nice to have / could → could), integrations (product names after "sync with", "comes
from", "system is", before "API", and well-known services named anywhere), sums of money
(digits or words), dates and due words, constraints (HIPAA, privacy, compliance ...),
risks ("the main risk is ..."), and action items with their owners and due words.

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
from audora.tenants.documents import brands
from audora.tenants.documents import sentences as sent
from audora.tenants.documents.actions import COMMITMENT, REQUEST, ActionReader
from audora.tenants.documents.dates import DateMention, find_dates
from audora.tenants.documents.models import (
    DatedItem,
    Priority,
    Requirement,
    TaskItem,
)
from audora.tenants.documents.numbers import Money, find_money
from audora.tenants.documents.phrases import (
    MONEY_WORDS,
    as_sentence,
    clauses,
    has_money,
    mask_money,
    normalise,
)
from audora.tenants.documents.sentences import People, Sentence

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
                found["risks"].append(as_sentence(risk.group("rest") or text))
            for clause in clauses(text):
                self._read_clause(clause, s, requirements, found, deadlines)
            if asked is not None and not COMMITMENT.search(text):
                rest = re.sub(r"^\W*(?:yes|yeah|sure|yep)\b\W*", "", text, flags=re.I)
                if rest != text and len(rest.split()) < 3:
                    continue  # a bare "Yes." : the answer goes on in the next sentence
                self._answered_need(asked, rest, s, requirements)
            asked = None
        actions, responsibilities = ActionReader(self.sentences, self.people, self.call_date).read()
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
        if NOT_CONTENT.search(clause) or has_money(clause):
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
        said = as_sentence(clause)
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
        if priority is None or len(rest.split()) < 3 or has_money(rest):
            return
        if any(r.statement == as_sentence(rest) for r in reqs):
            return
        reqs.append(Requirement(as_sentence(rest), priority, _criteria(rest), answer.start_seconds))

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
                    notes.append(as_sentence(s.text))
            if budgetary or find_money(s.text):
                for m in re.finditer(
                    r"\b(?:split|paid|payable|in)\s+(?:into\s+|in\s+)?(?:\w+\s+){0,2}?"
                    r"(?:phases|installments|instalments|payments|milestones|tranches)\b"
                    r"|\b(?:upfront|up front|deposit|monthly|per month|on delivery|net \d+)\b",
                    s.text,
                    re.IGNORECASE,
                ):
                    schedule.append(as_sentence(m.group(0)))
        if primary is None:
            return BudgetFinding(None, None, tuple(schedule), _unique(notes))
        return BudgetFinding(primary[0], primary[1], tuple(schedule), _unique(notes))


def _what(clause: str, mention: DateMention) -> str:
    """What is due at a date: the clause without the date words."""
    text = clause.replace(mention.said, " ")
    text = re.sub(r"\b(?:by|on|before|until|in|my)\s*(?=[,.]|$|\s+(?:before|,))", "", text)
    return as_sentence(re.sub(r"\s+([,.])", r"\1", re.sub(r"\s+", " ", text)).strip(" ,"))


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
                found.setdefault(label, as_sentence(mask_money(s.text)))
        for service in brands.services(s.text):  # "go through Stripe", "our Xero books"
            found.setdefault(service, as_sentence(mask_money(s.text)))
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
