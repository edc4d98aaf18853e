"""`GET /status` (HTML under the default strict CSP: no script, no style, nothing
inline), `GET /status.json` and `GET /status.atom` (Atom 1.0, RFC 4287): no sign-in,
each made only from `public.status_document`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from audora.platform.incidents import repository
from audora.platform.incidents.public import status_document
from audora.platform.runtime import Runtime

PATH = "/status"
JSON_PATH = "/status.json"
ATOM_PATH = "/status.atom"
ATOM = "http://www.w3.org/2005/Atom"
# Live state: a browser or feed reader asks again rather than keep an old copy.
_CACHE = {"Cache-Control": "no-cache"}

_WORDS = {
    "operational": "Operational",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
}
_OVERALL = {
    "operational": "All systems operational",
    "degraded_performance": "Some systems degraded",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
}


async def _document(request: Request) -> dict[str, Any]:
    runtime: Runtime = request.app.state.runtime
    async with runtime.platform_engine.connect() as conn:
        incidents = await repository.load_all(conn)
    return status_document(incidents, runtime.clock.now(), runtime.settings.mail_base_url)


def _report_html(markdown: str) -> str:
    """The report's Markdown as escaped paragraphs (no Markdown renderer: the text is
    shown as written, and nothing in it can become markup)."""
    paragraphs = [p for p in markdown.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join("<p>" + escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def _incident_html(incident: dict[str, Any]) -> str:
    updates = "".join(
        f"<li><b>{escape(_WORDS[u['status']])}</b> "
        f"<time datetime='{escape(u['at'], quote=True)}'>{escape(u['at'][:16])} UTC</time>"
        f"<p>{escape(u['message'])}</p></li>"
        for u in incident["updates"]
    )
    report = ""
    if incident["report"] is not None:
        report = (
            "<h4>Post-incident report</h4>"
            f"<p>Published {escape(incident['report']['published_at'][:10])}</p>"
            + _report_html(incident["report"]["markdown"])
        )
    return (
        f"<article id='{escape(incident['id'], quote=True)}'>"
        f"<h3>{escape(incident['title'])}</h3>"
        f"<p>{escape(_WORDS[incident['status']])} · affects "
        f"{escape(', '.join(incident['components']))} · started "
        f"{escape(incident['started_at'][:16])} UTC</p><ul>{updates}</ul>{report}</article>"
    )


def status_html(document: dict[str, Any]) -> str:
    components = "".join(
        f"<tr><td>{escape(c['name'])}</td><td>{escape(_WORDS[c['status']])}</td></tr>"
        for c in document["components"]
    )
    live = "".join(_incident_html(i) for i in document["open_incidents"]) or (
        "<p>No open incidents.</p>"
    )
    history = "".join(_incident_html(i) for i in document["incidents"]) or (
        "<p>No incidents recorded.</p>"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Audora status</title>"
        '<link rel="alternate" type="application/atom+xml" href="/status.atom" '
        'title="Audora incident updates"></head><body><h1>Audora status</h1>'
        f"<p id=overall>{escape(_OVERALL[document['status']])}</p>"
        f"<table><thead><tr><th>Component</th><th>Status</th></tr></thead>"
        f"<tbody>{components}</tbody></table>"
        f"<h2>Open incidents</h2>{live}<h2>Incident history</h2>{history}"
        f"<p>Updated {escape(document['updated_at'][:16])} UTC. "
        '<a href="/status.json">JSON</a> · <a href="/status.atom">Atom feed</a></p>'
        "</body></html>"
    )


def status_atom(document: dict[str, Any]) -> bytes:
    base = document["page"]["url"]
    feed = ET.Element("feed", xmlns=ATOM)
    ET.SubElement(feed, "id").text = f"{base}.atom"
    ET.SubElement(feed, "title").text = "Audora status: incident updates"
    entries = [
        (update, incident) for incident in document["incidents"] for update in incident["updates"]
    ]
    entries.sort(key=lambda pair: pair[0]["at"], reverse=True)
    ET.SubElement(feed, "updated").text = entries[0][0]["at"] if entries else document["updated_at"]
    ET.SubElement(ET.SubElement(feed, "author"), "name").text = "Audora"
    ET.SubElement(feed, "link", rel="self", href=f"{base}.atom")
    ET.SubElement(feed, "link", rel="alternate", href=base)
    for update, incident in entries:
        entry = ET.SubElement(feed, "entry")
        ET.SubElement(entry, "id").text = f"urn:uuid:{update['id']}"
        ET.SubElement(entry, "title").text = f"{incident['title']}: {_WORDS[update['status']]}"
        ET.SubElement(entry, "updated").text = update["at"]
        ET.SubElement(entry, "link", rel="alternate", href=f"{base}#{incident['id']}")
        ET.SubElement(entry, "content", type="text").text = update["message"]
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


async def status_page(request: Request) -> HTMLResponse:
    return HTMLResponse(status_html(await _document(request)), headers=_CACHE)


async def status_json(request: Request) -> JSONResponse:
    return JSONResponse(await _document(request), headers=_CACHE)


async def status_feed(request: Request) -> Response:
    return Response(
        status_atom(await _document(request)),
        media_type="application/atom+xml; charset=utf-8",
        headers=_CACHE,
    )
