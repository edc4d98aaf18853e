"""Every table of the shared `platform` schema, registered on `platform_metadata` by
importing the modules that define them (for the platform migration stream)."""

from __future__ import annotations

from audora.platform.auth.tables import (
    invitations,
    known_devices,
    memberships,
    recovery_codes,
    sessions,
    users,
    webauthn_credentials,
)
from audora.platform.billing.tables import billing_records
from audora.platform.db.metadata import platform_metadata
from audora.platform.incidents.tables import incident_tenants, incident_timeline, incidents
from audora.platform.staff.tables import (
    access_grants,
    access_requests,
    staff_audit_events,
    staff_credentials,
    staff_sessions,
    staff_users,
)
from audora.platform.subprocessors.tables import subprocessor_announcements
from audora.platform.vulnerability_reports.tables import vulnerability_reports
from audora.tenants.backups.tables import backups, restore_drills
from audora.tenants.lifecycle.tables import deletion_certificates, export_links, purges
from audora.tenants.meeting_bots.tables import bot_routes
from audora.tenants.recordings.tables import upload_tickets
from audora.tenants.registry.tables import accounts, tenant_keys, tenant_storage_identities

PLATFORM_TABLES = (
    billing_records,
    accounts,
    tenant_keys,
    tenant_storage_identities,
    users,
    memberships,
    sessions,
    upload_tickets,
    recovery_codes,
    webauthn_credentials,
    known_devices,
    invitations,
    purges,
    deletion_certificates,
    export_links,
    backups,
    restore_drills,
    staff_users,
    staff_credentials,
    staff_sessions,
    access_requests,
    access_grants,
    staff_audit_events,
    bot_routes,
    vulnerability_reports,
    subprocessor_announcements,
    incidents,
    incident_tenants,
    incident_timeline,
)

__all__ = ["PLATFORM_TABLES", "platform_metadata"]
