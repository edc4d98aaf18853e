"""A task list's structured JSON read as items to push: the generator's shape (no item
ids, `due_said`), edited documents with gaps, and nothing usable refused."""

from __future__ import annotations

from datetime import date

import pytest

from audora.tenants.integrations.models import NotATaskList, task_items


def test_the_generators_items_are_known_by_their_place() -> None:
    items = task_items(
        {
            "items": [
                {
                    "title": "Send the wireframes",
                    "owner": "Dana",
                    "due_said": "Friday",
                    "due_date": "2026-12-04",
                    "priority": "high",
                    "source_seconds": 61.5,
                },
                {
                    "title": "Book the kickoff",
                    "owner": None,
                    "due_said": None,
                    "due_date": None,
                    "priority": "low",
                    "source_seconds": None,
                },
            ],
            "open_questions": [],
        }
    )
    assert [i.id for i in items] == ["item-1", "item-2"]
    assert items[0].due == "Friday"
    assert items[0].due_date == date(2026, 12, 4)
    assert items[0].source_seconds == 61.5
    assert items[1].owner is None


def test_items_with_ids_keep_them_and_unusable_entries_are_skipped() -> None:
    items = task_items(
        {
            "items": [
                {"id": "a", "title": "First"},
                {"title": "  "},
                "junk",
                {"id": "a", "title": "Dup"},
            ]
        }
    )
    assert [(i.id, i.title) for i in items] == [("a", "First")]


@pytest.mark.parametrize("structured", [None, {}, {"items": "x"}, {"items": [{"title": ""}]}])
def test_a_document_without_usable_items_is_not_a_task_list(structured: object) -> None:
    with pytest.raises(NotATaskList):
        task_items(structured)  # type: ignore[arg-type]
