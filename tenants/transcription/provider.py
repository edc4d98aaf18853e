"""The transcription provider interface: audio bytes in, a timed transcript out.

Kept to one method so that hosted providers (an OpenAI-compatible audio endpoint,
Deepgram, AssemblyAI) can stand beside the embedded one and be chosen by settings. A
provider is called from a worker thread (the job runs it with `asyncio.to_thread`), so
it is synchronous and must be safe to call from more than one thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from audora.tenants.calls.content import Segment, Transcript


@dataclass(frozen=True)
class SpeakerTurn:
    """Who spoke when, as a meeting bot's timeline reports it."""

    speaker: str
    start_seconds: float
    end_seconds: float


class Transcriber(Protocol):
    def transcribe(self, audio: bytes, timeline: Sequence[SpeakerTurn] = ()) -> Transcript:
        """Transcribe a whole recording held in memory (never written to disk: E7).
        Segments carry a speaker only when `timeline` says who spoke then."""
        ...


def speaker_at(timeline: Sequence[SpeakerTurn], start: float, end: float) -> str | None:
    """The speaker whose turns overlap [start, end] the most, or None."""
    overlap: dict[str, float] = {}
    for turn in timeline:
        shared = min(end, turn.end_seconds) - max(start, turn.start_seconds)
        if shared > 0:
            overlap[turn.speaker] = overlap.get(turn.speaker, 0.0) + shared
    return max(overlap, key=overlap.__getitem__) if overlap else None


def labelled(
    pieces: Sequence[tuple[float, float, str]], timeline: Sequence[SpeakerTurn]
) -> Transcript:
    """A transcript from (start, end, text) pieces, speakers taken from `timeline`."""
    segments = tuple(
        Segment(start, end, speaker_at(timeline, start, end), text.strip())
        for start, end, text in pieces
        if text.strip()
    )
    return Transcript(" ".join(s.text for s in segments), segments)
