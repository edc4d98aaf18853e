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

import pytest

from audora.tenants.calls.content import DocumentKind, Transcript
from audora.tenants.documents.embedded import EmbeddedGenerator
from audora.tenants.documents.generator import CallContext, GeneratedDocument

from fixture_facts import (
    FIXTURES,
    NAMES,
    check_facts,
    fixture_call,
    has_any,
    outside_budget,
)


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


@pytest.mark.parametrize("name", NAMES)
async def test_every_fact_of_the_script_lands_in_the_right_document(name: str) -> None:
    call = fixture_call(name)
    docs = await _documents(call.script(), call.context)
    assert set(docs) == set(DocumentKind)
    facts = call.facts
    checked = check_facts(docs, facts, said=None)
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
    checked = check_facts(docs, call.facts, said=transcript.text)
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
        assert not has_any(outside_budget(doc.markdown), spellings), doc.kind
        others = {k: v for k, v in doc.structured.items() if k != "budget"}
        assert not has_any(json.dumps(others), spellings), doc.kind
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
