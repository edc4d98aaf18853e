"""`GET /subprocessors` (HTML, under the default strict CSP: no script, no style) and
`GET /subprocessors.json`: the registry, as published to customers."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from audora.platform.subprocessors.registry import NOTICE_DAYS, REGISTRY

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
)


def subprocessors_html() -> str:
    head = "".join(f"<th>{escape(title)}</th>" for title, _ in _COLUMNS)
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{escape(str(entry.as_json()[field]))}</td>" for _, field in _COLUMNS)
        + "</tr>"
        for entry in REGISTRY
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Audora subprocessors</title></head><body><h1>Subprocessors</h1>"
        f"<p>Account owners are emailed at least {NOTICE_DAYS} days before a new subprocessor"
        " that processes call data becomes effective; none receives data earlier.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></body></html>"
    )


async def subprocessors_page(request: Request) -> HTMLResponse:
    return HTMLResponse(subprocessors_html())


async def subprocessors_json(request: Request) -> JSONResponse:
    return JSONResponse(
        {"notice_days": NOTICE_DAYS, "subprocessors": [s.as_json() for s in REGISTRY]}
    )
