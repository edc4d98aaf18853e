"""Every sealed column of a tenant's schema, with the data key purpose it is sealed
under. Re-encryption walks this list; a sealed column missing from it would keep old
key versions alive, so a test checks it against the tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Table

from audora.tenants.calls.tables import document_versions, documents, recordings, transcripts
from audora.tenants.clients.tables import client_profiles
from audora.tenants.integrations.tables import integration_links, integrations
from audora.tenants.meeting_bots.tables import meeting_bots


def sealed_object_id(table: str, row_id: uuid.UUID, column: str) -> str:
    """What a sealed value is bound to: its table, row and column."""
    return f"{table}/{row_id}/{column}"


@dataclass(frozen=True)
class SealedColumn:
    table: Table
    column: str
    purpose: str

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"

    def object_id(self, row_id: uuid.UUID) -> str:
        return sealed_object_id(self.table.name, row_id, self.column)


SEALED_COLUMNS = (
    SealedColumn(client_profiles, "notes", "clients"),
    SealedColumn(client_profiles, "budget", "clients"),
    SealedColumn(transcripts, "text", "transcripts"),
    SealedColumn(transcripts, "segments", "transcripts"),
    SealedColumn(documents, "markdown", "documents"),
    SealedColumn(documents, "structured", "documents"),
    # Participants' names and a download capability: sealed like the transcript.
    SealedColumn(recordings, "speaker_timeline", "transcripts"),
    SealedColumn(meeting_bots, "media_url", "transcripts"),
    SealedColumn(meeting_bots, "speaker_timeline", "transcripts"),
    SealedColumn(integrations, "config", "integrations"),
    SealedColumn(integrations, "credential", "integrations"),
    SealedColumn(integration_links, "external_ids", "integrations"),
    SealedColumn(document_versions, "markdown", "documents"),
    SealedColumn(document_versions, "structured", "documents"),
)

PURPOSES = tuple(dict.fromkeys(c.purpose for c in SEALED_COLUMNS))
