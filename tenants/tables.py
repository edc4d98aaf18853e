"""Every table a tenant schema holds, registered on `tenant_metadata` by importing the
modules that define them. Provisioning and the tenant migration stream import this, so
the set is complete whichever entry point runs first."""

from __future__ import annotations

from audora.platform.db.metadata import tenant_metadata
from audora.tenants.clients.tables import client_profiles
from audora.tenants.keys.tables import data_keys

TENANT_TABLES = (client_profiles, data_keys)

__all__ = ["TENANT_TABLES", "tenant_metadata"]
