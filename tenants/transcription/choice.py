"""Which transcriber a worker uses: `AUDORA_TRANSCRIBER` (embedded, openai, deepgram,
assemblyai), with `AUDORA_TRANSCRIBER_BASE_URL` (https only; empty: the provider's own),
`AUDORA_TRANSCRIBER_API_KEY`, `AUDORA_TRANSCRIBER_MODEL` and `AUDORA_TRANSCRIBER_CA_FILE`
(a private endpoint's CA, besides the system's) for the hosted ones.

A bad choice (an unknown name, an http URL, a hosted provider without a key) is an
error at the first transcription, which the job retries and then reports as the call's
failure; the worker's log names the setting. So is a hosted provider that is not in the
subprocessor registry or not yet effective at `now` (PROMISES S5).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from audora.platform.config import Settings
from audora.platform.subprocessors.records import Announcement
from audora.platform.subprocessors.registry import require_effective
from audora.tenants.transcription import assemblyai, deepgram, openai_compatible
from audora.tenants.transcription.assemblyai import AssemblyAITranscriber
from audora.tenants.transcription.deepgram import DeepgramTranscriber
from audora.tenants.transcription.hosted import HostedConfig
from audora.tenants.transcription.openai_compatible import OpenAITranscriber
from audora.tenants.transcription.provider import Transcriber

HOSTED_DEFAULTS = {
    "openai": (openai_compatible.DEFAULT_BASE_URL, openai_compatible.DEFAULT_MODEL),
    "deepgram": (deepgram.DEFAULT_BASE_URL, deepgram.DEFAULT_MODEL),
    "assemblyai": (assemblyai.DEFAULT_BASE_URL, assemblyai.DEFAULT_MODEL),
}


def transcriber_from_settings(
    settings: Settings, now: datetime, announcements: Sequence[Announcement] = ()
) -> Transcriber:
    """The transcriber `settings` name, if it may receive call data at `now` (one added
    after launch also needs its announcement among the recorded `announcements`)."""
    choice = settings.transcriber.strip().lower()
    if choice == "embedded":
        from audora.tenants.transcription.whisper import WhisperTranscriber

        return WhisperTranscriber()
    if choice not in HOSTED_DEFAULTS:
        raise ValueError(
            f"AUDORA_TRANSCRIBER={settings.transcriber!r} is not one of embedded, "
            + ", ".join(HOSTED_DEFAULTS)
        )
    require_effective(choice, now, announcements)
    base_url, model = HOSTED_DEFAULTS[choice]
    config = HostedConfig(
        api_key=settings.transcriber_api_key,
        base_url=settings.transcriber_base_url or base_url,
        model=settings.transcriber_model or model,
        extra_ca=settings.transcriber_ca_file,
    )
    if choice == "openai":
        return OpenAITranscriber(config)
    if choice == "deepgram":
        return DeepgramTranscriber(config)
    return AssemblyAITranscriber(config)
