"""The document generator the settings choose: `AUDORA_GENERATOR=embedded` (the default,
offline) or `openai` (an OpenAI-compatible chat API at `AUDORA_GENERATOR_BASE_URL`,
https only, with `AUDORA_GENERATOR_API_KEY` and `AUDORA_GENERATOR_MODEL`). A hosted
generator is used only once its subprocessor is registered and effective (PROMISES S5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from audora.platform.config import Settings
from audora.platform.http.outbound import InsecureDestination
from audora.platform.subprocessors.records import Announcement
from audora.platform.subprocessors.registry import require_effective
from audora.tenants.documents.embedded import EmbeddedGenerator
from audora.tenants.documents.generator import DocumentGenerator
from audora.tenants.documents.hosted import OpenAIChatGenerator


def generator_from_settings(
    settings: Settings, now: datetime, announcements: Sequence[Announcement] = ()
) -> DocumentGenerator:
    """The configured generator; a hosted one without https or an API key, or not yet an
    effective subprocessor at `now` (with its announcement among `announcements` if it
    was added after launch), is refused."""
    if settings.generator == "embedded":
        return EmbeddedGenerator()
    require_effective(settings.generator, now, announcements)
    if not settings.generator_base_url.lower().startswith("https://"):
        raise InsecureDestination("AUDORA_GENERATOR_BASE_URL must be an https URL")
    api_key = settings.generator_api_key.get_secret_value()
    if not api_key:
        raise ValueError("AUDORA_GENERATOR_API_KEY is required when AUDORA_GENERATOR=openai")
    return OpenAIChatGenerator(
        base_url=settings.generator_base_url,
        api_key=api_key,
        model=settings.generator_model,
        extra_ca=settings.outbound_ca_file,
    )
