"""`GET /subprocessors` (HTML, under the default strict CSP: no script, no style) and
`GET /subprocessors.json`: the registry, as published to customers, each entry with the
day its announcement reached every owner, next to its effective date."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from audora.platform.runtime import Runtime
from audora.platform.subprocessors import registry
from audora.platform.subprocessors.records import Announcement, announcements
from audora.platform.subprocessors.registry import NOTICE_DAYS, Subprocessor

PATH = "/subprocessors"
JSON_PATH = "/subprocessors.json"

_COLUMNS = (
    ("Name", "name"),
    ("Category", "category"),
    ("Data processed", "data_processed"),
    ("Region", "region"),
    ("DPA", "dpa"),
    ("Zero retention", "zero_retention"),
    ("How", "retention_how"),
    ("Training use", "training_use"),
    ("Effective", "effective"),
    ("Announced", "announced"),
)


def published(entry: Subprocessor, recorded: Sequence[Announcement]) -> dict[str, Any]:
    """An entry as published: the registry's fields, `notice_owed`, and `announced`
    (the day every owner had been told of it; null when not, or when none is owed)."""
    told = registry.notified_on(entry, recorded)
    return {
        **entry.as_json(),
        "notice_owed": entry.notice_owed,
        "announced": told.isoformat() if told else None,
    }


def _announced_cell(record: dict[str, Any]) -> str:
    if record["announced"]:
        return str(record["announced"])
    return "not yet announced" if record["notice_owed"] else "on the original list"


def subprocessors_html(recorded: Sequence[Announcement]) -> str:
    head = "".join(f"<th>{escape(title)}</th>" for title, _ in _COLUMNS)
    rows = ""
    for entry in registry.REGISTRY:
        record = published(entry, recorded)
        record["announced"] = _announced_cell(record)
        rows += (
            "<tr>"
            + "".join(f"<td>{escape(str(record[field]))}</td>" for _, field in _COLUMNS)
            + "</tr>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Audora subprocessors</title></head><body><h1>Subprocessors</h1>"
        f"<p>Account owners are emailed at least {NOTICE_DAYS} days before a new subprocessor"
        " that processes call data becomes effective; none receives data earlier.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></body></html>"
    )


async def subprocessors_page(request: Request) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    return HTMLResponse(subprocessors_html(await announcements(runtime.platform_engine)))


async def subprocessors_json(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    recorded = await announcements(runtime.platform_engine)
    return JSONResponse(
        {
            "notice_days": NOTICE_DAYS,
            "subprocessors": [published(s, recorded) for s in registry.REGISTRY],
        }
    )
