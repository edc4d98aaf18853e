"""The registry's cron job: the daily pass that marks every live tenant due for every
sweep (tenants/registry/due_work.py), the net under any path that forgot its mark."""

from __future__ import annotations

import logging
from typing import Any

from audora.platform.runtime import Runtime
from audora.tenants.registry.due_work import mark_every_tenant_due

log = logging.getLogger(__name__)


async def mark_every_tenant_due_job(ctx: dict[str, Any]) -> int:
    runtime: Runtime = ctx["runtime"]
    marked = await mark_every_tenant_due(runtime.platform_engine, runtime.clock.now())
    log.info("marked %s tenants due for every sweep", marked)
    return marked
