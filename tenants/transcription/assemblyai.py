"""Transcription on AssemblyAI's async API: upload the audio, ask for its transcript,
poll until it is done, read its sentences, then delete the transcript.

AssemblyAI keeps a transcript (and the audio it was made from) until it is deleted, so
every transcript this makes is deleted once read, whether it succeeded or not
(`DELETE /v2/transcript/{id}`, in a `finally`): nothing of the call stays with the
provider (P4). AssemblyAI does not train on API data (P2); there is no per-request
option for either. The `Transcriber` protocol is synchronous, so polling waits in the
worker thread the job runs providers in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import httpx

from audora.platform.http.outbound import outbound_sync_client
from audora.tenants.calls.content import Transcript
from audora.tenants.transcription.hosted import HostedConfig, TranscriptionProviderError, failed
from audora.tenants.transcription.provider import SpeakerTurn, labelled

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.assemblyai.com"
DEFAULT_MODEL = ""  # AssemblyAI's default speech model
POLL_SECONDS = 3.0


class AssemblyAITranscriber:
    """`Transcriber` on AssemblyAI."""

    def __init__(self, config: HostedConfig, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.config = config
        self.poll_seconds = poll_seconds

    def transcribe(self, audio: bytes, timeline: Sequence[SpeakerTurn] = ()) -> Transcript:
        headers = {"authorization": self.config.api_key}
        with outbound_sync_client(
            extra_ca=self.config.extra_ca, timeout=self.config.timeout_seconds
        ) as http:
            uploaded = http.post(
                self.config.url("/v2/upload"),
                headers={**headers, "content-type": "application/octet-stream"},
                content=audio,
            )
            if uploaded.status_code != 200:
                raise failed("assemblyai", "upload", uploaded.status_code)
            request: dict[str, Any] = {
                "audio_url": _field(uploaded, "upload_url"),
                "language_code": "en",
                "punctuate": True,
            }
            if self.config.model:
                request["speech_model"] = self.config.model
            created = http.post(self.config.url("/v2/transcript"), headers=headers, json=request)
            if created.status_code != 200:
                raise failed("assemblyai", "transcript", created.status_code)
            transcript_id = str(_field(created, "id"))
            try:
                self._wait(http, headers, transcript_id)
                sentences = http.get(
                    self.config.url(f"/v2/transcript/{transcript_id}/sentences"), headers=headers
                )
                if sentences.status_code != 200:
                    raise failed("assemblyai", "sentences", sentences.status_code)
                pieces = [
                    (s["start"] / 1000, s["end"] / 1000, str(s["text"]))
                    for s in _field(sentences, "sentences")
                ]
            finally:
                self._delete(http, headers, transcript_id)
        return labelled(pieces, timeline)

    def _wait(self, http: httpx.Client, headers: dict[str, str], transcript_id: str) -> None:
        deadline = time.monotonic() + self.config.timeout_seconds
        while True:
            polled = http.get(self.config.url(f"/v2/transcript/{transcript_id}"), headers=headers)
            if polled.status_code != 200:
                raise failed("assemblyai", "poll", polled.status_code)
            status = _field(polled, "status")
            if status == "completed":
                return
            if status == "error":
                raise TranscriptionProviderError("assemblyai: the transcript ended in error")
            if time.monotonic() > deadline:
                raise TranscriptionProviderError("assemblyai: the transcript took too long")
            time.sleep(self.poll_seconds)

    def _delete(self, http: httpx.Client, headers: dict[str, str], transcript_id: str) -> None:
        deleted = http.delete(self.config.url(f"/v2/transcript/{transcript_id}"), headers=headers)
        if deleted.status_code != 200:
            # Logged with the id only; the job goes on (or fails) as it would have.
            log.error(
                "assemblyai: deleting transcript %s answered HTTP %s",
                transcript_id,
                deleted.status_code,
            )


def _field(response: httpx.Response, name: str) -> Any:
    try:
        return response.json()[name]
    except (KeyError, TypeError, ValueError):
        raise TranscriptionProviderError(f"assemblyai: an answer without {name}") from None
