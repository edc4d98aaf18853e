"""P1: the embedded generator turns each fixture call into its four documents, and every
fact the call states lands in the right one: budget and deadline in the SOW and the
brief (the budget under a "Budget" heading only), requirements, integrations and
constraints in the PRD, action items with owner, task and due words in the task list.

Each call is read twice: as its clean script (turns joined, speakers labelled), and as
what the embedded Whisper model hears in its FLAC recording (no speaker labels, real
recognition errors). The recordings are transcribed once per session, about 4 s each.
From the recordings, a fact is checked when the recogniser kept it; what it garbled
("Dentrix" heard as "then tricks") cannot be expected anywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from audora.tenants.calls.content import DocumentKind, Segment, Transcript
from audora.tenants.documents.embedded import EmbeddedGenerator
from audora.tenants.documents.generator import CallContext, GeneratedDocument

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "calls"
NAMES = ("brightside-dental", "northwind-logistics")
CALL_DATE = date(2026, 3, 4)  # a Wednesday


@dataclass(frozen=True)
class FixtureCall:
    data: dict[str, Any]

    @property
    def context(self) -> CallContext:
        return CallContext(self.data["title"], self.data["client"], CALL_DATE)

    @property
    def facts(self) -> dict[str, Any]:
        facts: dict[str, Any] = self.data["facts"]
        return facts

    def script(self) -> Transcript:
        """The call as written: one labelled segment per turn, five seconds each."""
        segments = tuple(
            Segment(float(i * 5), float(i * 5 + 5), speaker, text)
            for i, (speaker, text) in enumerate(self.data["turns"])
        )
        return Transcript(" ".join(s.text for s in segments), segments)


def fixture_call(name: str) -> FixtureCall:
    path = FIXTURES / f"{name}.json"
    assert path.is_file(), f"the fixture calls are missing from {FIXTURES}"
    return FixtureCall(json.loads(path.read_text()))


@pytest.fixture(scope="session")
def heard() -> dict[str, Transcript]:
    """Each fixture recording as the embedded model transcribes it."""
    from audora.tenants.transcription.whisper import WhisperTranscriber

    transcriber = WhisperTranscriber()
    return {n: transcriber.transcribe((FIXTURES / f"{n}.flac").read_bytes()) for n in NAMES}


async def _documents(
    transcript: Transcript, context: CallContext
) -> dict[DocumentKind, GeneratedDocument]:
    documents = await EmbeddedGenerator().generate(transcript, context)
    return {d.kind: d for d in documents}


def _plain(text: str) -> str:
    return re.sub(r"[-\s]+", " ", text.lower())


def _has(text: str, spellings: list[str]) -> bool:
    return any(_plain(s) in _plain(text) for s in spellings)


def sections(markdown: str, heading_prefix: str) -> str:
    """The text of the `##` sections whose heading starts with `heading_prefix`."""
    out, keep = [], False
    for line in markdown.splitlines():
        if line.startswith("## "):
            keep = line[3:].startswith(heading_prefix)
        if keep:
            out.append(line)
    return "\n".join(out)


def outside_budget(markdown: str) -> str:
    return "\n".join(
        part for part in re.split(r"(?m)^(?=## )", markdown) if not part.startswith("## Budget")
    )


def _check(
    docs: dict[DocumentKind, GeneratedDocument], facts: dict[str, Any], said: str | None
) -> int:
    """Asserts each fact in its documents; `said` (a recognised transcript) limits the
    check to the facts it kept. Returns how many facts were checked."""

    def kept(spellings: list[str]) -> bool:
        # A name spelled out letter by letter ("SAM-SAR-A") was kept too.
        return said is None or _has(said, spellings) or _has(said.replace("-", ""), spellings)

    checked = 0
    prd = docs[DocumentKind.PRD].markdown
    for kind in (DocumentKind.SOW, DocumentKind.CLIENT_BRIEF):
        doc = docs[kind]
        if kept(facts["budget"]):
            budget = sections(doc.markdown, "Budget")
            assert _has(budget, facts["budget"]), (kind, budget)
            figure = int(facts["budget"][1])
            assert doc.structured["budget"]["amount"] == figure
            assert f"${figure:,}" in budget
            checked += 1
        if kept(facts["deadline"]):
            assert _has(doc.markdown, facts["deadline"]), (kind, doc.markdown)
            checked += 1
    for group in ("requirements", "integrations", "constraints"):
        for fact in facts[group]:
            if kept([fact]):
                assert _has(prd, [fact]), (group, fact, prd)
                checked += 1
    items = docs[DocumentKind.TASK_LIST].structured["items"]
    for action in facts["action_items"]:
        if not kept([action["when"]]):
            continue
        matching = [
            item
            for item in items
            if action["when"].lower() in (item["due_said"] or "").lower()
            and (not kept([action["what"]]) or _plain(action["what"]) in _plain(item["title"]))
        ]
        assert len(matching) == 1, (action, items)
        owner = matching[0]["owner"]
        if said is None:
            assert owner is not None, action
            assert action["owner"] in owner, (action, owner)
        else:
            # Without speaker labels an owner is only known when the call names them;
            # never someone else.
            assert owner is None or action["owner"] in owner, (action, owner)
        checked += 1
    return checked


@pytest.mark.parametrize("name", NAMES)
async def test_every_fact_of_the_script_lands_in_the_right_document(name: str) -> None:
    call = fixture_call(name)
    docs = await _documents(call.script(), call.context)
    assert set(docs) == set(DocumentKind)
    facts = call.facts
    checked = _check(docs, facts, said=None)
    expected = (
        4
        + sum(len(facts[g]) for g in ("requirements", "integrations", "constraints"))
        + len(facts["action_items"])
    )
    assert checked == expected


@pytest.mark.parametrize("name", NAMES)
async def test_the_facts_the_recogniser_kept_land_in_the_right_document(
    name: str, heard: dict[str, Transcript]
) -> None:
    call = fixture_call(name)
    transcript = heard[name]
    assert all(s.speaker is None for s in transcript.segments)
    docs = await _documents(transcript, call.context)
    checked = _check(docs, call.facts, said=transcript.text)
    # The recordings keep most facts: the check is not vacuous.
    assert checked >= 10, checked


async def test_a_task_asked_of_a_named_person_is_theirs_without_speaker_labels(
    heard: dict[str, Transcript],
) -> None:
    """ "Leo, could you send us ... ?" "Yes, I will send ... tomorrow." is Leo's task, due
    tomorrow; "I will send you a statement of work" from an unnamed speaker has no owner."""
    call = fixture_call("brightside-dental")
    docs = await _documents(heard["brightside-dental"], call.context)
    items = docs[DocumentKind.TASK_LIST].structured["items"]
    leo = [i for i in items if i["owner"] == "Leo"]
    assert len(leo) == 1
    assert leo[0]["due_said"] == "tomorrow"
    assert leo[0]["due_date"] == "2026-03-05"
    unnamed = next(i for i in items if "statement of work" in i["title"])
    assert unnamed["owner"] is None
    markdown = docs[DocumentKind.TASK_LIST].markdown
    assert "owner not named on the call" in markdown


@pytest.mark.parametrize("name", NAMES)
async def test_budget_figures_appear_only_under_budget_headings(name: str) -> None:
    call = fixture_call(name)
    docs = await _documents(call.script(), call.context)
    spellings = call.facts["budget"]
    for doc in docs.values():
        assert not _has(outside_budget(doc.markdown), spellings), doc.kind
        others = {k: v for k, v in doc.structured.items() if k != "budget"}
        assert not _has(json.dumps(others), spellings), doc.kind
    for kind in (DocumentKind.PRD, DocumentKind.TASK_LIST):
        assert "budget" not in docs[kind].structured


async def test_due_words_resolve_against_the_call_date() -> None:
    call = fixture_call("northwind-logistics")
    docs = await _documents(call.script(), call.context)
    items = docs[DocumentKind.TASK_LIST].structured["items"]
    due = {i["due_said"]: i["due_date"] for i in items}
    # The call is on Wednesday 4 March 2026.
    assert due == {"next Tuesday": "2026-03-10", "Monday": "2026-03-09"}
    sow = docs[DocumentKind.SOW].structured
    assert [(t["said"], t["date"]) for t in sow["timeline"]] == [
        ("the end of September", "2026-09-30")
    ]
