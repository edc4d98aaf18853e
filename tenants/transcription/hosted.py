"""What the hosted transcription providers share: their connection settings, the
checks made before any audio leaves, and how a provider's failure is reported.

Audio goes out only over `platform/http/outbound.py`'s client (https, verified TLS, no
redirects); each request carries this one call's recording and nothing else (P3), and
the provider's no-training and no-retention options are set on every request where the
provider has them (P2, P4). Failures carry the provider's status code only, never what
it answered: an answer may quote the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from audora.platform.http.outbound import InsecureDestination


class TranscriptionProviderError(RuntimeError):
    """The provider refused or failed; the job retries, then marks the call FAILED."""


@dataclass(frozen=True)
class HostedConfig:
    api_key: str
    base_url: str
    model: str
    # A CA bundle to trust besides the system's (CA certificates only): private
    # deployments of an OpenAI-compatible endpoint, and the tests' stand-ins.
    extra_ca: Path | None = None
    timeout_seconds: float = 600.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme != "https" or not parts.hostname:
            raise InsecureDestination(
                f"a transcription provider's URL must be https, not {self.base_url!r}"
            )
        if not self.api_key:
            raise ValueError("a hosted transcription provider needs AUDORA_TRANSCRIBER_API_KEY")

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


# (signature test, file name, content type) for the containers uploads accept.
_FORMATS: tuple[tuple[bytes, int, str, str], ...] = (
    (b"OggS", 0, "recording.ogg", "audio/ogg"),
    (b"fLaC", 0, "recording.flac", "audio/flac"),
    (b"RIFF", 0, "recording.wav", "audio/wav"),
    (b"\x1aE\xdf\xa3", 0, "recording.webm", "audio/webm"),
    (b"ftyp", 4, "recording.mp4", "audio/mp4"),
    (b"ID3", 0, "recording.mp3", "audio/mpeg"),
)


def audio_file_type(audio: bytes) -> tuple[str, str]:
    """A file name and content type for the recording, from its signature: providers
    guess the decoder from them. Unknown: a neutral name and octet-stream."""
    for signature, offset, name, content_type in _FORMATS:
        if audio[offset : offset + len(signature)] == signature:
            return name, content_type
    if len(audio) >= 2 and audio[0] == 0xFF and audio[1] & 0xE0 == 0xE0:
        return "recording.mp3", "audio/mpeg"
    return "recording", "application/octet-stream"


def failed(provider: str, step: str, status: int) -> TranscriptionProviderError:
    return TranscriptionProviderError(f"{provider}: {step} answered HTTP {status}")
