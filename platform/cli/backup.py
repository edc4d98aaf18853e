"""`audora backup run [--tenant ID]`: back up now (every live tenant, or one) and expire
backups past their 30 days, as the worker's daily cron does; `audora backup verify
[--tenant ID]`: the restore drill now, on that tenant or on the one most due, as the
weekly cron does. Both print a JSON summary and exit 1 if anything failed."""

from __future__ import annotations

import argparse
import json
import sys
import uuid

from audora.platform.config import get_settings
from audora.platform.runtime import Runtime
from audora.tenants.backups.jobs import run_backups, run_drill


def _tenant(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(hex=value.removeprefix("acc_"))
    except ValueError:
        raise SystemExit(f"not a tenant (account) id: {value!r}") from None


async def backup(args: argparse.Namespace) -> int:
    tenant = _tenant(args.tenant)
    runtime = Runtime.open(get_settings())
    try:
        if args.backup_command == "run":
            run = await run_backups(runtime, tenant)
            summary: dict[str, object] = {
                "tenants": run.tenants,
                "taken": run.taken,
                "failed_tenants": run.failed_tenants,
                "expired": run.expiry.deleted,
                "expired_left": run.expiry.objects_left,
            }
            failed = bool(run.failed_tenants or run.expiry.objects_left)
        else:
            drill = await run_drill(runtime, tenant)
            if drill is None:
                summary, failed = {"drill": None, "message": "no tenant has a backup yet"}, False
            else:
                summary = {
                    "drill": str(drill.id),
                    "tenant": str(drill.tenant_id),
                    "backup": str(drill.backup_id) if drill.backup_id else None,
                    "ok": drill.ok,
                    "details": drill.details,
                }
                failed = not drill.ok
    finally:
        await runtime.close()
    sys.stdout.write(json.dumps(summary) + "\n")
    return 1 if failed else 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("backup", help="tenant backups and the restore drill")
    backup_sub = parser.add_subparsers(dest="backup_command", required=True)
    run = backup_sub.add_parser("run", help="back up now and expire old backups")
    run.add_argument("--tenant", help="one tenant (account) id; default every live tenant")
    verify = backup_sub.add_parser(
        "verify", help="restore the newest backup into a scratch schema and verify it"
    )
    verify.add_argument("--tenant", help="one tenant (account) id; default the one most due")
