"""Transcription on an OpenAI-compatible audio endpoint (`/audio/transcriptions`),
through the official `openai` client given our outbound HTTP client.

`verbose_json` with segment timestamps gives (start, end, text) pieces; speakers come
from the meeting bot's timeline, as for the embedded model. The client's own retries
are off: the job retries with backoff, and a retry should not resend the audio behind
the job's back.

Retention and training (P2, P4): OpenAI does not train on API data, and its zero data
retention is an organisation-level agreement rather than a request option, so there is
nothing to set per request here; an OpenAI-compatible server of one's own (a private
Whisper deployment) keeps what it is configured to keep. The subprocessor list says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from audora.platform.http.outbound import outbound_sync_client
from audora.tenants.calls.content import Transcript
from audora.tenants.transcription.hosted import HostedConfig, audio_file_type, failed
from audora.tenants.transcription.provider import SpeakerTurn, labelled

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "whisper-1"


class OpenAITranscriber:
    """`Transcriber` on an OpenAI-compatible endpoint."""

    def __init__(self, config: HostedConfig) -> None:
        self.config = config

    def transcribe(self, audio: bytes, timeline: Sequence[SpeakerTurn] = ()) -> Transcript:
        import openai

        name, content_type = audio_file_type(audio)
        with outbound_sync_client(
            extra_ca=self.config.extra_ca, timeout=self.config.timeout_seconds
        ) as http:
            client = openai.OpenAI(
                api_key=self.config.api_key,
                base_url=self.config.base_url,
                # The client accepts an httpx.Client; its stubs name only its own httpx2.
                http_client=cast(Any, http),
                max_retries=0,
            )
            try:
                result = client.audio.transcriptions.create(
                    file=(name, audio, content_type),
                    model=self.config.model,
                    response_format="verbose_json",
                    timestamp_granularities=["segment"],
                    language="en",
                )
            except openai.APIStatusError as exc:
                raise failed("openai", "transcription", exc.status_code) from None
        pieces = [(s.start, s.end, s.text) for s in result.segments or []]
        return labelled(pieces, timeline)
