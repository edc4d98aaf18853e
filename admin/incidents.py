"""`/admin/incidents...`: the Incidents section of the staff console (R1, R3-R5).

Pages need the staff session (else to the sign-in page); actions are JSON POSTs through
the console's own `action` wrapper (JSON body, Origin check, AppErrors answered as
JSON) and call `platform/incidents/service.py`, which records each in the incident's
timeline and the staff audit log under the signed-in staff member.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from audora.admin import http as console
from audora.admin import incident_pages
from audora.platform import ids
from audora.platform.errors import AppError, ErrorCode, bad_input
from audora.platform.incidents import notify, service
from audora.platform.incidents.model import Actor, Incident


async def _actor(request: Request) -> Actor:
    session = await console._session(request)
    return Actor(
        label=f"staff:{session.email}", staff_id=session.staff_id, ip=console._client(request).ip
    )


def _id(request: Request) -> uuid.UUID:
    return service.parse_id(request.path_params["id"])


def _optional(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_input(f"{key} must be text", field=key)
    return value


def _strings(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_input(f"{key} is a list of text", field=key)
    return value


async def list_page(request: Request) -> Response:
    try:
        await console._session(request)
    except AppError:
        return RedirectResponse("/admin/login", status_code=303, headers=console._HEADERS)
    incidents = await service.list_incidents(console._runtime(request))
    return console._html(incident_pages.list_page(incidents))


async def detail_page(request: Request) -> Response:
    try:
        await console._session(request)
    except AppError:
        return RedirectResponse("/admin/login", status_code=303, headers=console._HEADERS)
    try:
        incident = await service.get_incident(console._runtime(request), _id(request))
    except AppError:
        return console._html("<!doctype html><title>Not found</title><p>No such incident.", 404)
    return console._html(incident_pages.detail_page(incident))


def _answer(incident: Incident) -> Response:
    return console._json(
        {
            "id": service.public_id(incident.id),
            "phase": incident.phase.value,
            "status": incident.public_status.value,
            # Affected accounts whose owners are not told yet (a mail failure).
            "untold": sum(1 for t in incident.tenants if t.notified_at is None),
        }
    )


@console.action
async def open_incident(request: Request, body: dict[str, Any]) -> Response:
    actor = await _actor(request)
    components = body.get("components")
    return _answer(
        await service.open_incident(
            console._runtime(request),
            actor,
            title=console._text(body, "title"),
            severity=console._text(body, "severity"),
            components=_strings(body, "components") if components is not None else [],
            message=_optional(body, "message"),
        )
    )


@console.action
async def advance(request: Request, body: dict[str, Any]) -> Response:
    actor = await _actor(request)
    return _answer(
        await service.advance_phase(
            console._runtime(request),
            actor,
            _id(request),
            console._text(body, "phase"),
            _optional(body, "note"),
        )
    )


@console.action
async def update(request: Request, body: dict[str, Any]) -> Response:
    actor = await _actor(request)
    return _answer(
        await service.post_update(
            console._runtime(request),
            actor,
            _id(request),
            message=console._text(body, "message"),
            status=_optional(body, "status"),
        )
    )


@console.action
async def note(request: Request, body: dict[str, Any]) -> Response:
    actor = await _actor(request)
    return _answer(
        await service.add_note(
            console._runtime(request), actor, _id(request), console._text(body, "note")
        )
    )


@console.action
async def confirm(request: Request, body: dict[str, Any]) -> Response:
    actor = await _actor(request)
    tenants = [
        ids.decode(ids.Kind.ACCOUNT, t.strip(), field="tenants") for t in _strings(body, "tenants")
    ]
    return _answer(
        await service.confirm(
            console._runtime(request),
            actor,
            _id(request),
            account_ids=tenants,
            data_affected=console._text(body, "dataAffected"),
            actions_taken=console._text(body, "actionsTaken"),
        )
    )


@console.action
async def notify_owners(request: Request, body: dict[str, Any]) -> Response:
    actor = await _actor(request)
    runtime = console._runtime(request)
    told = await notify.notify_pending(runtime, actor, _id(request))
    return console._json({"told": told})


@console.action
async def save_report(request: Request, body: dict[str, Any]) -> Response:
    actor = await _actor(request)
    return _answer(
        await service.save_report(
            console._runtime(request), actor, _id(request), console._text(body, "markdown")
        )
    )


@console.action
async def publish(request: Request, body: dict[str, Any]) -> Response:
    actor = await _actor(request)
    if "markdown" in body and not isinstance(body["markdown"], str):
        raise AppError("markdown must be text", code=ErrorCode.BAD_USER_INPUT, field="markdown")
    return _answer(
        await service.publish_report(
            console._runtime(request), actor, _id(request), _optional(body, "markdown")
        )
    )


ROUTES: list[BaseRoute] = [
    Route("/incidents", list_page, methods=["GET"]),
    Route("/incidents/{id}", detail_page, methods=["GET"]),
    Route("/api/incidents", open_incident, methods=["POST"]),
    Route("/api/incidents/{id}/phase", advance, methods=["POST"]),
    Route("/api/incidents/{id}/update", update, methods=["POST"]),
    Route("/api/incidents/{id}/note", note, methods=["POST"]),
    Route("/api/incidents/{id}/confirm", confirm, methods=["POST"]),
    Route("/api/incidents/{id}/notify", notify_owners, methods=["POST"]),
    Route("/api/incidents/{id}/report", save_report, methods=["POST"]),
    Route("/api/incidents/{id}/publish", publish, methods=["POST"]),
]
