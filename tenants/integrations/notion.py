"""Pushing a task list to a Notion database through Notion's official SDK
(`notion-client`), given our own httpx client so its requests go through the outbound
client and the SSRF guard: `pages.create` in the database for items not pushed before,
`pages.update` for those that were.

The page's title goes in the database's title property, `Name` (as in a new Notion
database); the item's owner, due date, priority and moment in the call go in the page's
body when it is made (an update changes the title only). The SDK's own
retries are off: the push job retries, through arq, with its own backoff.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from notion_client import AsyncClient
from notion_client.errors import HTTPResponseError, RequestTimeoutError

from audora.tenants.integrations.delivery import (
    PushRejected,
    PushRetryable,
    Remember,
    judge_failure,
    judge_status,
)
from audora.tenants.integrations.models import PushPlan, TaskItem

DESTINATION = "Notion"
# The API version these requests are written for: databases as page parents.
NOTION_VERSION = "2022-06-28"
TITLE_PROPERTY = "Name"

# The SDK logs failed requests with the API's message, which may quote the document.
_sdk_log = logging.getLogger(f"{__name__}.sdk")
_sdk_log.setLevel(logging.CRITICAL)


def _title(item: TaskItem) -> dict[str, Any]:
    return {TITLE_PROPERTY: {"title": [{"type": "text", "text": {"content": item.title}}]}}


def _body(item: TaskItem) -> list[dict[str, Any]]:
    return [
        {
            "object": "block",
            "type": "paragraph",
            "paragraph": {"rich_text": [{"type": "text", "text": {"content": line}}]},
        }
        for line in item.description().replace("**", "").replace("_", "").splitlines()
        if line
    ]


class NotionSender:
    def __init__(
        self, client: httpx.AsyncClient, base_url: str, token: str, database_id: str
    ) -> None:
        self.notion = AsyncClient(
            client=client,
            options={
                "auth": token,
                "base_url": base_url.rstrip("/"),
                "notion_version": NOTION_VERSION,
                "retry": False,
                "logger": _sdk_log,
            },
        )
        self.database_id = database_id

    async def _call(self, operation: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            result = await operation(**kwargs)
        except HTTPResponseError as exc:
            raise judge_status(DESTINATION, exc.status, exc.headers) or PushRejected(
                f"{DESTINATION} refused the request"
            ) from None
        except RequestTimeoutError:
            raise PushRetryable(f"{DESTINATION} did not answer in time") from None
        except Exception as exc:
            raise judge_failure(DESTINATION, exc) from None
        if not isinstance(result, dict) or not isinstance(result.get("id"), str):
            raise PushRejected(f"{DESTINATION} answered without a page")
        return result

    async def send(self, plan: PushPlan, links: dict[str, str], remember: Remember) -> int:
        created = 0
        for item in plan.items:
            existing = links.get(item.id)
            if existing is not None:
                await self._call(
                    self.notion.pages.update, page_id=existing, properties=_title(item)
                )
                continue
            page = await self._call(
                self.notion.pages.create,
                parent={"database_id": self.database_id},
                properties=_title(item),
                children=_body(item),
            )
            await remember(item.id, page["id"])
            created += 1
        return created
