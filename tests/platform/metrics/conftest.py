"""`scrape`: `/metrics` read with the scraper's token, parsed (tests/metrics_scraping.py)."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from audora.platform.config import Settings

from metrics_scraping import TOKEN, Scrape, Scraper


@pytest.fixture
def scrape(api: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Scraper:
    monkeypatch.setattr(settings, "metrics_token", SecretStr(TOKEN))

    async def scraping() -> Scrape:
        answer = await api.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200, answer.text
        return Scrape(answer.text)

    return scraping
