"""What staff do with an incident, from the console or the CLI: open it, move it through
its phases, post public updates and private notes, confirm customer data involvement
(which tells the affected owners at once; confirming again adds the accounts found
since), and write and publish the report.

Every change is one transaction that also appends to the incident's timeline and to the
staff audit log: a change that cannot be recorded does not happen. Bad input is refused
before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform import ids
from audora.platform.errors import AppError, ErrorCode, bad_input
from audora.platform.incidents import notify, repository
from audora.platform.incidents.model import (
    COMPONENTS,
    MAX_REPORT,
    MAX_TEXT,
    MAX_TITLE,
    NOTIFY_WITHIN,
    PHASES,
    REPORT_WITHIN,
    Actor,
    Incident,
    Phase,
    PublicStatus,
    Severity,
)
from audora.platform.incidents.tables import incident_tenants, incidents
from audora.platform.input_text import clean_text
from audora.platform.runtime import Runtime
from audora.platform.staff.audit import staff_only
from audora.tenants.registry.tables import accounts

DEFAULT_OPEN_MESSAGE = "We are investigating this issue."
RESOLVED_MESSAGE = "This incident has been resolved."
REPORT_MESSAGE = "The post-incident report has been published."


def public_id(incident_id: uuid.UUID) -> str:
    return ids.encode(ids.Kind.INCIDENT, incident_id)


def parse_id(value: str) -> uuid.UUID:
    return ids.decode(ids.Kind.INCIDENT, value.strip(), field="incident")


E = TypeVar("E", Severity, Phase, PublicStatus)


def _choice(kind: type[E], value: str, field: str) -> E:
    value = value.strip()
    try:
        if kind is Severity:
            return kind(value.upper())
        return kind(value.lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise bad_input(f"{field} must be one of: {allowed}", field=field) from None


def _components(values: Sequence[str]) -> list[str]:
    chosen = [v.strip().lower() for v in values if v.strip()]
    if not chosen:
        raise bad_input("name at least one affected component", field="components")
    unknown = sorted(set(chosen) - set(COMPONENTS))
    if unknown:
        raise bad_input(
            f"unknown component(s) {', '.join(unknown)}; known: {', '.join(COMPONENTS)}",
            field="components",
        )
    return [c for c in COMPONENTS if c in chosen]


async def _audit(
    conn: AsyncConnection,
    at: datetime,
    actor: Actor,
    action: str,
    incident_id: uuid.UUID,
    details: dict[str, Any] | None = None,
    account_id: uuid.UUID | None = None,
) -> None:
    await staff_only(
        conn,
        at,
        action,
        staff_id=actor.staff_id,
        account_id=account_id,
        target=public_id(incident_id),
        ip=actor.ip,
        details={"actor": actor.label, **(details or {})},
    )


async def open_incident(
    runtime: Runtime,
    actor: Actor,
    *,
    title: str,
    severity: str,
    components: Sequence[str],
    message: str | None = None,
) -> Incident:
    """A new incident in detection, `investigating` on the status page at once."""
    title = clean_text(title, field="title", limit=MAX_TITLE, multiline=False)
    level = _choice(Severity, severity, "severity")
    chosen = _components(components)
    public = clean_text(
        message or DEFAULT_OPEN_MESSAGE, field="message", limit=MAX_TEXT, multiline=True
    )
    incident_id, now = uuid.uuid4(), runtime.clock.now()
    async with runtime.platform_engine.begin() as conn:
        await conn.execute(
            incidents.insert().values(
                id=incident_id,
                title=title,
                severity=level.value,
                phase=Phase.DETECTION.value,
                public_status=PublicStatus.INVESTIGATING.value,
                components=chosen,
                opened_at=now,
            )
        )
        await repository.append(
            conn,
            incident_id,
            now,
            actor,
            "opened",
            public,
            public=True,
            phase=Phase.DETECTION,
            public_status=PublicStatus.INVESTIGATING,
        )
        await _audit(
            conn,
            now,
            actor,
            "incident.opened",
            incident_id,
            {"severity": level.value, "components": chosen},
        )
        return await repository.load(conn, incident_id)


async def _resolve(
    conn: AsyncConnection, incident: Incident, at: datetime, actor: Actor, message: str
) -> None:
    """Public status `resolved`: final, and the report's 30-day clock starts."""
    await conn.execute(
        update(incidents)
        .where(incidents.c.id == incident.id)
        .values(
            public_status=PublicStatus.RESOLVED.value,
            resolved_at=at,
            report_due=at + REPORT_WITHIN,
        )
    )
    await repository.append(
        conn,
        incident.id,
        at,
        actor,
        "update",
        message,
        public=True,
        public_status=PublicStatus.RESOLVED,
    )


async def advance_phase(
    runtime: Runtime, actor: Actor, incident_id: uuid.UUID, phase: str, note: str | None = None
) -> Incident:
    """Move to the next phase (only the next: none is skipped, none is gone back to).
    Post-incident review resolves the incident if it is not yet; closing needs the
    report published and every affected account told."""
    target = _choice(Phase, phase, "phase")
    remark = (
        clean_text(note, field="note", limit=MAX_TEXT, multiline=True)
        if note and note.strip()
        else None
    )
    now = runtime.clock.now()
    async with runtime.platform_engine.begin() as conn:
        incident = await repository.lock(conn, incident_id)
        current = PHASES.index(incident.phase)
        if PHASES.index(target) != current + 1:
            following = PHASES[current + 1].value if current + 1 < len(PHASES) else None
            raise bad_input(
                f"the incident is in {incident.phase.value}: phases move one step forward"
                + (f", to {following}" if following else "; it is closed"),
                field="phase",
            )
        if target is Phase.CLOSED:
            if incident.report_published_at is None:
                raise bad_input("publish the post-incident report before closing", field="phase")
            if any(t.notified_at is None for t in incident.tenants):
                raise bad_input("every affected account must be told before closing", field="phase")
        values: dict[str, Any] = {"phase": target.value}
        if target is Phase.CLOSED:
            values["closed_at"] = now
        await conn.execute(update(incidents).where(incidents.c.id == incident_id).values(values))
        await repository.append(
            conn,
            incident_id,
            now,
            actor,
            "phase",
            remark or f"phase {incident.phase.value} -> {target.value}",
            phase=target,
        )
        if target is Phase.POST_INCIDENT_REVIEW and incident.resolved_at is None:
            await _resolve(conn, incident, now, actor, RESOLVED_MESSAGE)
        await _audit(
            conn,
            now,
            actor,
            "incident.phase_changed",
            incident_id,
            {"from": incident.phase.value, "to": target.value},
        )
        return await repository.load(conn, incident_id)


async def post_update(
    runtime: Runtime,
    actor: Actor,
    incident_id: uuid.UUID,
    *,
    message: str,
    status: str | None = None,
) -> Incident:
    """A public update on the status page, optionally changing the public status
    (`resolved` is final)."""
    text = clean_text(message, field="message", limit=MAX_TEXT, multiline=True)
    chosen = _choice(PublicStatus, status, "status") if status else None
    now = runtime.clock.now()
    async with runtime.platform_engine.begin() as conn:
        incident = await repository.lock(conn, incident_id)
        if chosen is not None and chosen is not incident.public_status:
            if incident.public_status is PublicStatus.RESOLVED:
                raise bad_input("the incident is resolved; open a new one", field="status")
        if chosen is PublicStatus.RESOLVED and incident.resolved_at is None:
            await _resolve(conn, incident, now, actor, text)
        else:
            if chosen is not None:
                await conn.execute(
                    update(incidents)
                    .where(incidents.c.id == incident_id)
                    .values(public_status=chosen.value)
                )
            await repository.append(
                conn, incident_id, now, actor, "update", text, public=True, public_status=chosen
            )
        await _audit(
            conn,
            now,
            actor,
            "incident.updated",
            incident_id,
            {"status": chosen.value if chosen else None},
        )
        return await repository.load(conn, incident_id)


async def add_note(runtime: Runtime, actor: Actor, incident_id: uuid.UUID, note: str) -> Incident:
    """A private timeline entry (what was seen, what was tried)."""
    text = clean_text(note, field="note", limit=MAX_TEXT, multiline=True)
    now = runtime.clock.now()
    async with runtime.platform_engine.begin() as conn:
        await repository.lock(conn, incident_id)
        await repository.append(conn, incident_id, now, actor, "note", text)
        await _audit(conn, now, actor, "incident.noted", incident_id)
        return await repository.load(conn, incident_id)


async def confirm(
    runtime: Runtime,
    actor: Actor,
    incident_id: uuid.UUID,
    *,
    account_ids: Sequence[uuid.UUID],
    data_affected: str,
    actions_taken: str,
) -> Incident:
    """Customer data is involved: record which accounts, what data and how, and what was
    done; each account's 72-hour clock starts now, and its owners are emailed at once
    (`notify.notify_pending`; one that fails is retried by `audora incident notify`
    and alerted on by the hourly job).

    Confirming again adds the accounts not yet affected, each with its own 72-hour
    clock from now, and emails only their owners; the accounts already recorded keep
    their clock and are not emailed again. The newest description of the data and of
    what was done is kept (it is what the added owners are told). Naming only accounts
    already recorded is a CONFLICT."""
    what = clean_text(data_affected, field="dataAffected", limit=MAX_TEXT, multiline=True)
    done = clean_text(actions_taken, field="actionsTaken", limit=MAX_TEXT, multiline=True)
    chosen = list(dict.fromkeys(account_ids))
    if not chosen:
        raise bad_input("name at least one affected account", field="tenants")
    now = runtime.clock.now()
    async with runtime.platform_engine.begin() as conn:
        incident = await repository.lock(conn, incident_id)
        if incident.phase is Phase.CLOSED:
            raise bad_input("the incident is closed", field="incident")
        recorded = {t.account_id for t in incident.tenants}
        chosen = [a for a in chosen if a not in recorded]
        if not chosen:
            raise AppError(
                "every account named is already affected by this incident",
                code=ErrorCode.CONFLICT,
            )
        known = set(
            (await conn.execute(select(accounts.c.id).where(accounts.c.id.in_(chosen))))
            .scalars()
            .all()
        )
        missing = [ids.encode(ids.Kind.ACCOUNT, a) for a in chosen if a not in known]
        if missing:
            raise bad_input(f"no such account: {', '.join(missing)}", field="tenants")
        await conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id)
            .values(
                customer_data_involved=True,
                data_affected=what,
                actions_taken=done,
                confirmed_at=incident.confirmed_at or now,
            )
        )
        await conn.execute(
            incident_tenants.insert(),
            [
                {
                    "incident_id": incident_id,
                    "account_id": account,
                    "confirmed_at": now,
                    "notify_due": now + NOTIFY_WITHIN,
                }
                for account in chosen
            ],
        )
        await repository.append(
            conn,
            incident_id,
            now,
            actor,
            "confirmed",
            f"customer data involved in {len(chosen)} {'more ' if recorded else ''}"
            f"account(s); owners to be told by {(now + NOTIFY_WITHIN).isoformat()}"
            + (
                "; the description of the data or of what was done changed"
                if recorded and (what, done) != (incident.data_affected, incident.actions_taken)
                else ""
            ),
        )
        for account in chosen:
            await _audit(conn, now, actor, "incident.confirmed", incident_id, account_id=account)
    await notify.notify_pending(runtime, actor, incident_id)
    return await get_incident(runtime, incident_id)


async def save_report(
    runtime: Runtime, actor: Actor, incident_id: uuid.UUID, markdown: str
) -> Incident:
    """The post-incident report's draft (Markdown), until it is published."""
    text = clean_text(markdown, field="report", limit=MAX_REPORT, multiline=True)
    now = runtime.clock.now()
    async with runtime.platform_engine.begin() as conn:
        incident = await repository.lock(conn, incident_id)
        if incident.report_published_at is not None:
            raise AppError("the report is already published", code=ErrorCode.CONFLICT)
        await conn.execute(
            update(incidents).where(incidents.c.id == incident_id).values(report_markdown=text)
        )
        await repository.append(conn, incident_id, now, actor, "report_saved", "report draft saved")
        await _audit(conn, now, actor, "incident.report_saved", incident_id)
        return await repository.load(conn, incident_id)


async def publish_report(
    runtime: Runtime, actor: Actor, incident_id: uuid.UUID, markdown: str | None = None
) -> Incident:
    """Publish the report (the text given, else the saved draft) on the status page;
    this stops the report's alerts (R4). Only a resolved incident has a report."""
    text = (
        clean_text(markdown, field="report", limit=MAX_REPORT, multiline=True) if markdown else None
    )
    now = runtime.clock.now()
    async with runtime.platform_engine.begin() as conn:
        incident = await repository.lock(conn, incident_id)
        if incident.report_published_at is not None:
            raise AppError("the report is already published", code=ErrorCode.CONFLICT)
        if incident.resolved_at is None:
            raise bad_input("resolve the incident before publishing its report", field="report")
        text = text or incident.report_markdown
        if not text:
            raise bad_input("the report is empty: write it first", field="report")
        await conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id)
            .values(report_markdown=text, report_published_at=now)
        )
        await repository.append(
            conn, incident_id, now, actor, "report_published", REPORT_MESSAGE, public=True
        )
        await _audit(conn, now, actor, "incident.report_published", incident_id)
        return await repository.load(conn, incident_id)


async def list_incidents(runtime: Runtime) -> list[Incident]:
    async with runtime.platform_engine.connect() as conn:
        return await repository.load_all(conn)


async def get_incident(runtime: Runtime, incident_id: uuid.UUID) -> Incident:
    async with runtime.platform_engine.connect() as conn:
        return await repository.load(conn, incident_id)
