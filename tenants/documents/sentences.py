"""A transcript as sentences, each with who said it (when labelled) and when.

Segments from speech recognition cut sentences anywhere ("...where patients pick a
clinic," / "a dentist and a time slot."), so consecutive segments of one speaker are
joined before splitting at sentence punctuation. A speaker change always ends a
sentence. Transcripts without punctuation (some recognisers, lower-cased text) are cut
before the phrases that usually open a new statement ("next steps", "I will", "our
budget" ...) so one run-on line does not become a single sentence.

People's names come from the speaker labels ("Dr. Maria Chen (client)" is Maria Chen)
and from the text: greetings and addresses ("Hello Tom", "Maria, can you ..."),
self-introductions ("I'm Sam", "this is Sam") and written labels ("Sam: ...").
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from audora.tenants.calls.content import Segment

TITLES = {"dr", "mr", "mrs", "ms", "miss", "prof", "doctor", "professor"}
# Words that can open a sentence in a name's place but are not names.
NOT_NAMES = {
    "and", "so", "ok", "okay", "yes", "yeah", "no", "great", "good", "sure", "thanks",
    "thank", "well", "now", "then", "also", "hi", "hello", "hey", "right", "alright",
    "noted", "understood", "perfect", "cool", "fine", "next", "first", "finally", "but",
    "or", "if", "when", "what", "who", "how", "why", "where", "which", "the", "a", "an",
    "i", "we", "you", "they", "he", "she", "it", "this", "that", "there", "here", "our",
    "your", "my", "their", "everyone", "everybody", "all", "guys", "team", "folks",
    "please", "maybe", "actually", "just", "again", "one", "two", "today", "tomorrow",
    "morning", "afternoon", "evening", "hmm", "um", "uh", "oh", "let", "makes", "sense",
}  # fmt: skip
_OPENERS = (
    r"next steps?|our budget|the budget|the main risk|one concern|i will|i'll|we will|"
    r"we need|we want|we also need|they must|it must|it has to|the dashboard|patients|"
    r"drivers|managers|users|[a-z]+,?\s+(?:can|could|would) you"
)
_REQUEST = r"(?:can|could|would|will) you|please"


@dataclass(frozen=True)
class Sentence:
    index: int
    text: str
    speaker: str | None  # the person's name from the label, when the segment had one
    label: str | None  # the label as given ("Leo (client IT)"), for the side of the call
    start_seconds: float


def person_of_label(label: str | None) -> str | None:
    """ "Dr. Maria Chen (client)" → "Maria Chen"; None stays None."""
    if not label:
        return None
    plain = re.sub(r"\(.*?\)", " ", label)
    words = [w for w in re.split(r"\s+", plain.strip()) if w]
    while words and words[0].lower().rstrip(".") in TITLES:
        words = words[1:]
    return " ".join(words) or None


def split(segments: Sequence[Segment]) -> list[Sentence]:
    """The sentences of a transcript, in order."""
    turns: list[tuple[str | None, list[tuple[int, float]], str]] = []
    for seg in segments:
        text = seg.text.strip()
        if not text:
            continue
        if turns and turns[-1][0] == seg.speaker:
            label, offsets, joined = turns[-1]
            offsets.append((len(joined) + 1, seg.start_seconds))
            turns[-1] = (label, offsets, f"{joined} {text}")
        else:
            turns.append((seg.speaker, [(0, seg.start_seconds)], text))
    out: list[Sentence] = []
    for label, offsets, text in turns:
        for start, piece in _pieces(text):
            seconds = round(
                max((s for off, s in offsets if off <= start), default=offsets[0][1]), 2
            )
            out.append(Sentence(len(out), piece, person_of_label(label), label, seconds))
    return out


def _pieces(text: str) -> list[tuple[int, str]]:
    pieces: list[tuple[int, str]] = []
    for m in re.finditer(r".+?(?:[.?!]+(?=\s|$)|$)", text):
        piece = m.group(0)
        offset = m.start() + len(piece) - len(piece.lstrip())
        pieces.extend(_unpunctuated(offset, piece.strip()))
    return [(o, p) for o, p in pieces if re.search(r"\w", p)]


def _unpunctuated(offset: int, text: str) -> list[tuple[int, str]]:
    """A long run without punctuation, cut before the usual openers of a statement."""
    if len(text.split()) <= 30:
        return [(offset, text)]
    cuts = [0] + [m.start() for m in re.finditer(rf"\b(?:{_OPENERS})\b", text, re.I) if m.start()]
    cuts.append(len(text))
    return [(offset + a, text[a:b].strip()) for a, b in itertools.pairwise(cuts)]


def addressed(sentence: str) -> str | None:
    """The name a sentence addresses: "Leo, could you ...", "great maria can you ..."."""
    m = re.match(
        rf"^\W*(?:(?:\w+)[,\s]+){{0,2}}?([A-Za-z][a-z'-]+)\s*,?\s+(?:{_REQUEST})\b",
        sentence,
        re.IGNORECASE,
    )
    if m and m.group(1).lower() not in NOT_NAMES:
        return m.group(1).capitalize()
    return None


def introduced(sentence: str) -> str | None:
    """The name a speaker gives themself: "Hi, I'm Sam", "my name is Sam", "Sam here"."""
    m = re.search(r"\b(?i:i am|i'm|my name is)\s+([A-Z][a-z'-]+)\b", sentence) or re.search(
        r"^\W*(?:(?i:hi|hello|hey)\W+)?(?:(?i:this is)\s+([A-Z][a-z'-]+)|([A-Z][a-z'-]+)\s+here)\b",
        sentence,
    )
    if m is None:
        return None
    name = next(g for g in m.groups() if g)
    return None if name.lower() in NOT_NAMES else name


def names_in(sentence: str) -> list[str]:
    """Names a sentence gives people: greetings, addresses, introductions, "Sam:" labels."""
    found: list[str] = []
    patterns = [
        r"\b(?i:hi|hello|hey|thanks|thank you|welcome)\s*,?\s+([A-Z][a-z'-]+)\b",
        r"^\W*([A-Z][a-z'-]+)\s*:",
    ]
    for pattern in patterns:
        for m in re.finditer(pattern, sentence):
            if m.group(1).lower() not in NOT_NAMES:
                found.append(m.group(1))
    if (own := introduced(sentence)) is not None:
        found.append(own)
    if (name := addressed(sentence)) is not None:
        found.append(name)
    return found


@dataclass(frozen=True)
class People:
    """The people of one call, by the names the call gives them."""

    names: tuple[str, ...]  # full names where known ("Maria Chen"), in order of first mention

    def canonical(self, name: str | None) -> str | None:
        """The call's name for `name` (a first name, or a slightly misspelt one)."""
        if not name:
            return None
        low = name.lower()
        for full in self.names:
            if low in (full.lower(), full.split()[0].lower()):
                return full
        firsts = {full.split()[0].lower(): full for full in self.names}
        close = difflib.get_close_matches(low, list(firsts), n=1, cutoff=0.8)
        return firsts[close[0]] if close else None


def people_of(sentences: Sequence[Sentence]) -> People:
    names: list[str] = []

    def add(name: str) -> None:
        first = name.split()[0].lower()
        for i, known in enumerate(names):
            if known.split()[0].lower() == first:
                if len(name) > len(known):
                    names[i] = name
                return
        if People(tuple(names)).canonical(first) is None:  # not a misspelling of a known one
            names.append(name)

    for sentence in sentences:
        if sentence.speaker:
            add(sentence.speaker)
    for sentence in sentences:
        for name in names_in(sentence.text):
            add(name)
    return People(tuple(names))
