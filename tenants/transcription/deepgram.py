"""Transcription on Deepgram's pre-recorded API (`POST /v1/listen`).

Every request opts out of Deepgram's Model Improvement Program (`mip_opt_out=true`):
an opted-out request is not retained beyond its processing and not used to train (P2,
P4). Utterances give timed pieces; speakers come from the meeting bot's timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from audora.platform.http.outbound import outbound_sync_client
from audora.tenants.calls.content import Transcript
from audora.tenants.transcription.hosted import (
    HostedConfig,
    TranscriptionProviderError,
    audio_file_type,
    failed,
)
from audora.tenants.transcription.provider import SpeakerTurn, labelled

DEFAULT_BASE_URL = "https://api.deepgram.com"
DEFAULT_MODEL = "nova-3"


def listen_params(model: str) -> dict[str, str]:
    """The query of every request: the model, timed utterances, and the opt-out."""
    return {
        "model": model,
        "language": "en",
        "punctuate": "true",
        "utterances": "true",
        "mip_opt_out": "true",
    }


class DeepgramTranscriber:
    """`Transcriber` on Deepgram."""

    def __init__(self, config: HostedConfig) -> None:
        self.config = config

    def transcribe(self, audio: bytes, timeline: Sequence[SpeakerTurn] = ()) -> Transcript:
        _name, content_type = audio_file_type(audio)
        with outbound_sync_client(
            extra_ca=self.config.extra_ca, timeout=self.config.timeout_seconds
        ) as http:
            response = http.post(
                self.config.url("/v1/listen"),
                params=listen_params(self.config.model),
                headers={
                    "authorization": f"Token {self.config.api_key}",
                    "content-type": content_type,
                },
                content=audio,
            )
        if response.status_code != 200:
            raise failed("deepgram", "listen", response.status_code)
        return labelled(_pieces(response.json()), timeline)


def _pieces(body: Any) -> list[tuple[float, float, str]]:
    try:
        results = body["results"]
        utterances = results.get("utterances")
        if utterances is not None:
            return [(float(u["start"]), float(u["end"]), str(u["transcript"])) for u in utterances]
        # No utterances (an older model): the whole channel as one piece.
        text = str(results["channels"][0]["alternatives"][0]["transcript"])
        duration = float(body.get("metadata", {}).get("duration", 0.0))
        return [(0.0, duration, text)]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        raise TranscriptionProviderError("deepgram: an answer of an unexpected shape") from None
