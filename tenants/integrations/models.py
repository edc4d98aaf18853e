"""What integrations and pushes are, apart from how they are stored or sent.

A task list document carries its items as structured JSON, `{"items": [{"title",
"owner", "due_said" (or "due"), "due_date", "priority", "source_seconds", "id"?}, ...]}`
(tenants/documents/models.py's `TaskItem`); `task_items` reads them defensively (the
document may have been edited), keeping only what a destination can use.

An item's id is what a second push matches to update what the first one created. The
generator's items carry no id of their own, so an item without one is known by its
place in the list ("item-3"): editing an item's words updates the same issue or page,
and items added at the end are created; an item inserted or removed in the middle
shifts the ones after it onto their neighbours' issues (still no duplicates).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

MAX_ITEMS = 500
MAX_TITLE = 255


class IntegrationKind(StrEnum):
    LINEAR = "LINEAR"
    NOTION = "NOTION"
    WEBHOOK = "WEBHOOK"


class PushStatus(StrEnum):
    PENDING_CONFIRMATION = "PENDING_CONFIRMATION"
    CONFIRMED = "CONFIRMED"
    SENDING = "SENDING"
    DONE = "DONE"
    FAILED = "FAILED"


@dataclass(frozen=True)
class IntegrationConfig:
    """Where an integration sends: an endpoint (the webhook's URL, or another API
    endpoint than Linear's or Notion's own), a Linear team, a Notion database."""

    url: str | None = None
    team_id: str | None = None
    database_id: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"url": self.url, "teamId": self.team_id, "databaseId": self.database_id}
        return {k: v for k, v in out.items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IntegrationConfig:
        return cls(data.get("url"), data.get("teamId"), data.get("databaseId"))


@dataclass(frozen=True)
class Integration:
    id: uuid.UUID
    kind: IntegrationKind
    name: str
    config: IntegrationConfig
    credential_hint: str
    created_by: uuid.UUID
    created_at: datetime


@dataclass(frozen=True)
class TaskItem:
    id: str
    title: str
    owner: str | None = None
    due: str | None = None
    due_date: date | None = None
    priority: str | None = None
    source_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "owner": self.owner,
            "due": self.due,
            "dueDate": None if self.due_date is None else self.due_date.isoformat(),
            "priority": self.priority,
            "sourceSeconds": self.source_seconds,
        }

    def description(self) -> str:
        """The item's details as Markdown lines, for the destination's body text."""
        lines = []
        if self.owner:
            lines.append(f"**Owner:** {self.owner}")
        if self.due:
            lines.append(f"**Due:** {self.due}")
        if self.priority:
            lines.append(f"**Priority:** {self.priority}")
        if self.source_seconds is not None:
            minutes, seconds = divmod(int(self.source_seconds), 60)
            lines.append(f"**Said at:** {minutes}:{seconds:02d} in the call")
        lines.append("")
        lines.append("_Pushed from Audora._")
        return "\n".join(lines)


@dataclass(frozen=True)
class PushRecord:
    id: uuid.UUID
    integration_id: uuid.UUID
    document_id: uuid.UUID
    document_version: int
    item_count: int
    status: PushStatus
    prepared_by: uuid.UUID
    prepared_at: datetime
    confirmed_by: uuid.UUID | None
    confirmed_at: datetime | None
    attempts: int
    last_error: str | None
    finished_at: datetime | None


@dataclass(frozen=True)
class PushPlan:
    """What one push sends: the items of one version of one task list."""

    push_id: uuid.UUID
    integration_id: uuid.UUID
    document_id: uuid.UUID
    document_version: int
    items: tuple[TaskItem, ...]


class NotATaskList(ValueError):
    pass


def _text(value: Any, limit: int = 2000) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:limit]
    return None


def _date(value: Any) -> date | None:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def task_items(structured: dict[str, Any] | None) -> tuple[TaskItem, ...]:
    """The items of a task list's structured JSON; NotATaskList if it has none usable."""
    raw = (structured or {}).get("items")
    if not isinstance(raw, list):
        raise NotATaskList("the task list has no items")
    items: dict[str, TaskItem] = {}
    for position, entry in enumerate(raw[:MAX_ITEMS]):
        if not isinstance(entry, dict):
            continue
        title = _text(entry.get("title"), MAX_TITLE)
        if title is None:
            continue
        item_id = _text(entry.get("id"), 200) or f"item-{position + 1}"
        seconds = entry.get("source_seconds")
        items.setdefault(
            item_id,
            TaskItem(
                id=item_id,
                title=title,
                owner=_text(entry.get("owner"), 200),
                due=_text(entry.get("due_said") or entry.get("due"), 200),
                due_date=_date(entry.get("due_date")),
                priority=_text(entry.get("priority"), 32),
                source_seconds=float(seconds) if isinstance(seconds, int | float) else None,
            ),
        )
    if not items:
        raise NotATaskList("the task list has no items")
    return tuple(items.values())
