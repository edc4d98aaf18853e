"""What a data export holds, as a ZIP streamed entry by entry: the account and its
members, every client profile, every call with its transcript and its documents (as
Markdown and as JSON), and the whole audit log (JSON lines).

The ZIP is written to an in-memory sink that is drained after each entry, so the archive
never exists whole, in memory or on disk: each entry is produced, compressed, handed on
(to the encryption, then the bucket) and dropped. Audio is not exported: it is erased
72 hours after transcription and is never part of what the account keeps.
"""

from __future__ import annotations

import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.keys.service import KeyService
from audora.tenants.audit.tables import audit_events
from audora.tenants.calls.content import read_documents, read_transcript
from audora.tenants.calls.tables import calls, recordings
from audora.tenants.clients.tables import client_profiles
from audora.tenants.keys.data_keys import FieldSealer
from audora.tenants.keys.sealed_columns import sealed_object_id

README = """Audora data export
==================

account.json                     the account and its members
client_profiles.json             every client profile
calls/<call id>/call.json        the call, its consent attestation, its recording's status
calls/<call id>/transcript.json  the transcript with its timed segments
calls/<call id>/transcript.md    the transcript's text
calls/<call id>/<KIND>.md        each generated document (PRD, TASK_LIST, SOW, CLIENT_BRIEF)
calls/<call id>/<KIND>.json      the same document with its structured content
audit_log.jsonl                  the account's audit log, one event per line, hash-chained

Audio recordings are not included: they are erased 72 hours after transcription.
"""

AUDIT_PAGE = 1000


class _Sink:
    """A write-only, unseekable file for `zipfile`: what it is given is taken away."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        taken = bytes(self._buffer)
        self._buffer.clear()
        return taken


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, default=_default).encode()


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not exportable: {type(value).__name__}")


async def _entries(
    uow: TenantUnitOfWork,
    keys: KeyService,
    tenant_id: uuid.UUID,
    account: dict[str, Any],
) -> AsyncIterator[tuple[str, bytes]]:
    yield "README.txt", README.encode()
    yield "account.json", _json(account)
    clients = FieldSealer(uow, keys, tenant_id, "clients")
    profiles = []
    for row in (
        await uow.execute(select(client_profiles).order_by(client_profiles.c.created_at))
    ).mappings():
        profiles.append(
            {
                "id": row["id"],
                "name": row["name"],
                "contactEmail": row["contact_email"],
                "notes": await clients.open(
                    sealed_object_id("client_profiles", row["id"], "notes"), row["notes"]
                ),
                "budget": await clients.open(
                    sealed_object_id("client_profiles", row["id"], "budget"), row["budget"]
                ),
                "createdBy": row["created_by"],
                "createdAt": row["created_at"],
                "updatedAt": row["updated_at"],
            }
        )
    yield "client_profiles.json", _json(profiles)
    listed = (
        await uow.execute(
            select(
                calls,
                recordings.c.status.label("recording_status"),
                recordings.c.deleted_at.label("recording_deleted_at"),
            )
            .outerjoin(recordings, recordings.c.call_id == calls.c.id)
            .order_by(calls.c.created_at, calls.c.id)
        )
    ).mappings()
    for call in list(listed):
        folder = f"calls/{call['id']}"
        yield (
            f"{folder}/call.json",
            _json(
                {
                    "id": call["id"],
                    "clientProfileId": call["client_profile_id"],
                    "title": call["title"],
                    "status": call["status"],
                    "failureReason": call["failure_reason"],
                    "consent": {
                        "participantsNotified": call["consent_participants_notified"],
                        "methods": call["consent_methods"],
                        "jurisdiction": call["consent_jurisdiction"],
                    },
                    "recording": {
                        "status": call["recording_status"],
                        "deletedAt": call["recording_deleted_at"],
                    },
                    "createdBy": call["created_by"],
                    "createdAt": call["created_at"],
                }
            ),
        )
        transcript = await read_transcript(uow, keys, tenant_id, call["id"])
        if transcript is not None:
            yield (
                f"{folder}/transcript.json",
                _json(
                    {
                        "text": transcript.text,
                        "segments": [
                            {
                                "startSeconds": s.start_seconds,
                                "endSeconds": s.end_seconds,
                                "speaker": s.speaker,
                                "text": s.text,
                            }
                            for s in transcript.segments
                        ],
                    }
                ),
            )
            yield f"{folder}/transcript.md", f"# {call['title']}\n\n{transcript.text}\n".encode()
        for document in await read_documents(uow, keys, tenant_id, call["id"]):
            kind = document.kind.value
            yield f"{folder}/{kind}.md", document.markdown.encode()
            yield (
                f"{folder}/{kind}.json",
                _json(
                    {
                        "id": document.id,
                        "kind": kind,
                        "title": document.title,
                        "version": document.version,
                        "markdown": document.markdown,
                        "structured": document.structured,
                        "updatedAt": document.updated_at,
                    }
                ),
            )
    lines: list[bytes] = []
    after = 0
    while True:
        page = list(
            (
                await uow.execute(
                    select(audit_events)
                    .where(audit_events.c.seq > after)
                    .order_by(audit_events.c.seq)
                    .limit(AUDIT_PAGE)
                )
            ).mappings()
        )
        for event in page:
            lines.append(
                json.dumps(
                    {
                        "seq": event["seq"],
                        "id": event["id"],
                        "at": event["at"],
                        "actor": event["actor"],
                        "action": event["action"],
                        "target": event["target"],
                        "ip": event["ip"],
                        "details": event["details"],
                        "prevHash": bytes(event["prev_hash"]),
                        "hash": bytes(event["hash"]),
                    },
                    ensure_ascii=False,
                    default=_default,
                ).encode()
            )
        if len(page) < AUDIT_PAGE:
            break
        after = int(page[-1]["seq"])
    yield "audit_log.jsonl", b"\n".join(lines) + b"\n"


async def export_zip(
    uow: TenantUnitOfWork, keys: KeyService, tenant_id: uuid.UUID, account: dict[str, Any]
) -> AsyncIterator[bytes]:
    """The archive's bytes, one entry at a time."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        async for name, data in _entries(uow, keys, tenant_id, account):
            archive.writestr(name, data)
            yield sink.take()
    yield sink.take()
