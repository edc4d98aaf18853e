"""The synthetic client calls of tests/fixtures/calls and the facts each must yield:
shared by the generator's tests and the end-to-end tests on the real stack.

A fact is checked in the document it belongs in: budget and deadline in the SOW and the
brief (the budget under a "Budget" heading only), requirements, integrations and
constraints in the PRD, action items with owner, task and due words in the task list.
Given what a recogniser heard, only the facts it kept are expected.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from audora.tenants.calls.content import DocumentKind, Segment, Transcript
from audora.tenants.documents.generator import CallContext, GeneratedDocument

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "calls"
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


def plain(text: str) -> str:
    return re.sub(r"[-\s]+", " ", text.lower())


def has_any(text: str, spellings: list[str]) -> bool:
    return any(plain(s) in plain(text) for s in spellings)


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


def check_facts(
    docs: dict[DocumentKind, GeneratedDocument],
    facts: dict[str, Any],
    said: str | None,
    *,
    speakers_labelled: bool = False,
) -> int:
    """Asserts each fact in its documents; `said` (a recognised transcript) limits the
    check to the facts it kept. Owners are required, and must be right, when the
    transcript had speaker labels (a script, or a bot's timeline); otherwise an owner
    is only known where the call names them. Returns how many facts were checked."""

    def kept(spellings: list[str]) -> bool:
        # A name spelled out letter by letter ("SAM-SAR-A") was kept too.
        return said is None or has_any(said, spellings) or has_any(said.replace("-", ""), spellings)

    checked = 0
    prd = docs[DocumentKind.PRD].markdown
    for kind in (DocumentKind.SOW, DocumentKind.CLIENT_BRIEF):
        doc = docs[kind]
        if kept(facts["budget"]):
            budget = sections(doc.markdown, "Budget")
            assert has_any(budget, facts["budget"]), (kind, budget)
            figure = int(facts["budget"][1])
            assert doc.structured["budget"]["amount"] == figure
            assert f"${figure:,}" in budget
            checked += 1
        if kept(facts["deadline"]):
            assert has_any(doc.markdown, facts["deadline"]), (kind, doc.markdown)
            checked += 1
    for group in ("requirements", "integrations", "constraints"):
        for fact in facts[group]:
            if kept([fact]):
                assert has_any(prd, [fact]), (group, fact, prd)
                checked += 1
    items = docs[DocumentKind.TASK_LIST].structured["items"]
    for action in facts["action_items"]:
        if not kept([action["when"]]):
            continue
        matching = [
            item
            for item in items
            if action["when"].lower() in (item["due_said"] or "").lower()
            and (not kept([action["what"]]) or plain(action["what"]) in plain(item["title"]))
        ]
        assert len(matching) == 1, (action, items)
        owner = matching[0]["owner"]
        if said is None or speakers_labelled:
            assert owner is not None, action
            assert action["owner"] in owner, (action, owner)
        else:
            # Without speaker labels an owner is only known when the call names them;
            # never someone else.
            assert owner is None or action["owner"] in owner, (action, owner)
        checked += 1
    return checked


# A pause this long (seconds) separates two turns of a fixture call: the recordings
# were synthesized turn by turn, and only turns are parted by half a second of silence.
TURN_PAUSE = 0.5
SILENT_RMS = 0.005


def turn_timeline(name: str) -> list[dict[str, Any]]:
    """Who spoke when in a fixture recording, as a meeting bot reports it: the turns of
    its script laid over the stretches of sound between pauses."""
    import numpy as np
    from faster_whisper.audio import decode_audio

    rate, frame = 16000, 160  # 10 ms frames
    samples = decode_audio(str(FIXTURES / f"{name}.flac"), sampling_rate=rate)
    count = len(samples) // frame
    loud = np.sqrt((samples[: count * frame].reshape(count, frame) ** 2).mean(axis=1)) >= SILENT_RMS
    stretches: list[tuple[float, float]] = []
    start: int | None = None
    last = quiet = 0
    for i, sounding in enumerate(loud):
        if sounding:
            start = i if start is None else start
            last, quiet = i, 0
        elif start is not None:
            quiet += 1
            if quiet * frame / rate >= TURN_PAUSE:
                stretches.append((start * frame / rate, (last + 1) * frame / rate))
                start = None
    if start is not None:
        stretches.append((start * frame / rate, (last + 1) * frame / rate))
    turns = fixture_call(name).data["turns"]
    assert len(stretches) == len(turns), (name, len(stretches), len(turns))
    return [
        {"speaker": speaker, "start_seconds": begin, "end_seconds": end}
        for (speaker, _), (begin, end) in zip(turns, stretches, strict=True)
    ]
