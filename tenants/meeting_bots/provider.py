"""The meeting-bot provider's API (Recall.ai's v1 shapes), reached through the one
outbound client: https only, certificates verified, no redirects.

What is sent, and why:
- `POST {base}/api/v1/bot/` with `meeting_url` and `bot_name` ("Audora notetaker", so
  participants see who records), and `recording_config.retention = {"type": "timed",
  "hours": AUDORA_BOT_PROVIDER_RETENTION_HOURS}`: the provider's own expiry of the media,
  a backstop should our deletion never reach it (S2). Recall documents no training use
  of customer media and offers no per-request flag for it, so none is sent; no
  transcription is asked of the provider (`recording_config` names no transcript
  provider), so the audio is processed by Audora alone.
- `POST {base}/api/v1/bot/{id}/leave_call/` for a bot Audora could not record as sent
  (a race lost to another dispatch): nothing records a meeting Audora does not track.
- `POST {base}/api/v1/bot/{id}/delete_media/` once the audio is stored here: deletes
  every media file of the bot (recordings, and the metadata such as the speaker
  timeline). Whether it is really gone is then checked on the media URL itself.

Authorization is `Token <AUDORA_BOT_PROVIDER_API_KEY>`. Nothing else leaves: no call
title, client or user names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from audora.platform.config import Settings
from audora.platform.errors import AppError, ErrorCode
from audora.platform.http.outbound import outbound_client

BOT_NAME = "Audora notetaker"
# Provider ids go into URL paths: nothing but an id's characters.
BOT_ID = re.compile(r"\A[A-Za-z0-9_-]{1,128}\Z")


class ProviderUnavailable(Exception):
    """The provider did not answer usefully (network, 5xx, 429): worth trying again."""


class ProviderRefused(AppError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code=ErrorCode.BAD_USER_INPUT)


@dataclass(frozen=True)
class BotProvider:
    base_url: str
    api_key: str
    retention_hours: int
    extra_ca: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> BotProvider:
        if not settings.bot_provider_url:
            raise AppError(
                "meeting bots are not configured on this server", code=ErrorCode.BAD_USER_INPUT
            )
        return cls(
            settings.bot_provider_url.rstrip("/"),
            settings.bot_provider_api_key,
            settings.bot_provider_retention_hours,
            settings.outbound_ca_file,
        )

    def client(self, timeout: float = 30.0) -> httpx.AsyncClient:
        return outbound_client(extra_ca=self.extra_ca, timeout=timeout)

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Token {self.api_key}", "accept": "application/json"}

    async def create_bot(self, meeting_url: str) -> str:
        """Send a bot to `meeting_url`; the provider's id of it."""
        body: dict[str, Any] = {
            "meeting_url": meeting_url,
            "bot_name": BOT_NAME,
            "recording_config": {
                "retention": {"type": "timed", "hours": self.retention_hours},
            },
        }
        try:
            async with self.client() as client:
                response = await client.post(
                    f"{self.base_url}/api/v1/bot/", json=body, headers=self._headers()
                )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(type(exc).__name__) from None
        if response.status_code in (400, 422):
            raise ProviderRefused("the meeting-bot provider refused this meeting link")
        if response.status_code not in (200, 201):
            raise ProviderUnavailable(f"create bot answered {response.status_code}")
        try:
            bot_id = response.json()["id"]
        except (ValueError, KeyError, TypeError):
            raise ProviderUnavailable("create bot answered without an id") from None
        if not isinstance(bot_id, str) or not BOT_ID.match(bot_id):
            raise ProviderUnavailable("create bot answered with an unusable id")
        return bot_id

    async def recall_bot(self, bot_id: str) -> None:
        """Have the bot leave its meeting (or never join it): one Audora could not record."""
        if not BOT_ID.match(bot_id):
            raise ValueError("not a provider bot id")
        try:
            async with self.client() as client:
                response = await client.post(
                    f"{self.base_url}/api/v1/bot/{bot_id}/leave_call/", headers=self._headers()
                )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(type(exc).__name__) from None
        if response.status_code not in (200, 202, 204, 404, 410):
            raise ProviderUnavailable(f"leave call answered {response.status_code}")

    async def delete_media(self, bot_id: str) -> None:
        """Ask the provider to delete every media file of the bot; already gone is fine."""
        if not BOT_ID.match(bot_id):
            raise ValueError("not a provider bot id")
        try:
            async with self.client() as client:
                response = await client.post(
                    f"{self.base_url}/api/v1/bot/{bot_id}/delete_media/", headers=self._headers()
                )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(type(exc).__name__) from None
        if response.status_code not in (200, 202, 204, 404, 410):
            raise ProviderUnavailable(f"delete media answered {response.status_code}")
