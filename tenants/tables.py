"""Every table a tenant schema holds, registered on `tenant_metadata` by importing the
modules that define them. Provisioning and the tenant migration stream import this, so
the set is complete whichever entry point runs first."""

from __future__ import annotations

from audora.platform.db.metadata import tenant_metadata
from audora.tenants.access_log.tables import access_log
from audora.tenants.audit.tables import audit_chain, audit_events
from audora.tenants.calls.tables import (
    calls,
    document_versions,
    documents,
    recordings,
    transcripts,
)
from audora.tenants.clients.tables import client_profiles
from audora.tenants.integrations.tables import integration_links, integration_pushes, integrations
from audora.tenants.keys.tables import data_keys, reencryptions
from audora.tenants.lifecycle.export_tables import data_exports
from audora.tenants.meeting_bots.tables import meeting_bots

TENANT_TABLES = (
    client_profiles,
    data_keys,
    calls,
    recordings,
    transcripts,
    documents,
    document_versions,
    audit_events,
    audit_chain,
    reencryptions,
    access_log,
    data_exports,
    meeting_bots,
    integrations,
    integration_pushes,
    integration_links,
)

__all__ = ["TENANT_TABLES", "tenant_metadata"]
