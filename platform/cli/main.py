"""`audora`: the operator's command line.

audora run                 the embedded stack, migrations, the API and a worker
audora serve | worker      one API process | one worker process
audora migrate             the platform schema, then every tenant schema
audora stack up | env      only the embedded stack | its URLs as shell exports
audora tenants list | gc   the tenant registry | remove storage of no account
audora tenants suspend | unsuspend  make an account read-only (C1) | writable again
audora tenants lapse | renew | purge  a lapsed subscription | renewed | purge after grace
audora tenants clusters | cluster | move  tenant clusters | change one | move a tenant
audora demo                on a running stack: sign up, upload the sample call, show results
audora keys rotate | status  rotate tenant KEKs (and data keys) | versions and progress
audora schema export       write schema/schema.graphql
audora retention run | schedule   due retention actions now | the schedule
audora backup run | verify   back up (and expire) now | the restore drill now
audora staff create | list  a staff account and its one-time enrollment link | staff
audora vuln list | ack | resolve  vulnerability reports | answered | fixed or closed
audora incident open | list | show | update | confirm | notify | report | publish   incidents
audora dev clock advance 73h | reset | show   (dev and test only)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

from audora.platform.cli import (
    backup,
    commands,
    dev,
    incidents,
    lifecycle,
    placement,
    retention,
    staff,
    subprocessors,
    vuln,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audora", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the whole embedded stack, the API and a worker")
    sub.add_parser("serve", help="serve the API")
    sub.add_parser("worker", help="run a job worker")
    migrate = sub.add_parser("migrate", help="migrate the platform and every tenant")
    migrate.add_argument("--concurrency", type=int, default=None)
    stack = sub.add_parser("stack", help="the embedded stack")
    stack_sub = stack.add_subparsers(dest="stack_command", required=True)
    stack_sub.add_parser("up", help="start the embedded stack and migrate; Ctrl-C stops it")
    stack_sub.add_parser("env", help="print the running stack's URLs as shell exports")
    tenants = sub.add_parser("tenants", help="the tenant registry")
    tenants_sub = tenants.add_subparsers(dest="tenants_command", required=True)
    tenants_sub.add_parser("list", help="list tenants")
    tenants_sub.add_parser("gc", help="remove buckets and identities of no account")
    suspend = tenants_sub.add_parser(
        "suspend", help="make an account read-only (e.g. evidence of recording without consent)"
    )
    suspend.add_argument("--tenant", required=True, help="the account id (acc_<hex> or a UUID)")
    suspend.add_argument("--reason", required=True, help="why; kept in the tenant's audit log")
    unsuspend = tenants_sub.add_parser("unsuspend", help="make a suspended account writable")
    unsuspend.add_argument("--tenant", required=True, help="the account id (acc_<hex> or a UUID)")
    unsuspend.add_argument("--reason", default="", help="why; kept in the tenant's audit log")
    lifecycle.add_parsers(tenants_sub)
    placement.add_parsers(tenants_sub)
    keys = sub.add_parser("keys", help="tenant encryption keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    rotate = keys_sub.add_parser("rotate", help="rotate tenant KEKs and rewrap their data keys")
    target = rotate.add_mutually_exclusive_group(required=True)
    target.add_argument("--tenant", help="a tenant (account) id")
    target.add_argument("--all", action="store_true", help="every live tenant")
    rotate.add_argument(
        "--data-keys",
        action="store_true",
        help="also add new data-key versions and re-encrypt the data to them (a worker job)",
    )
    rotate.add_argument(
        "--inline",
        action="store_true",
        help="with --data-keys: re-encrypt in this process instead of queueing the job",
    )
    status = keys_sub.add_parser(
        "status", help="KEK versions wrapping each tenant's keys; re-encryption progress"
    )
    status.add_argument("--tenant", help="one tenant (account) id")
    demo = sub.add_parser(
        "demo", help="on a running stack: sign up, upload the sample call, print the results"
    )
    demo.add_argument("--api-url", help="the API (default: the running stack's, AUDORA_API_URL)")
    demo.add_argument("--ca-file", help="CA to verify the API with (default: .data/tls/ca.pem)")
    demo.add_argument(
        "--timeout", type=float, default=600, help="seconds to wait for the results (600)"
    )
    schema = sub.add_parser("schema", help="the GraphQL schema")
    schema_sub = schema.add_subparsers(dest="schema_command", required=True)
    schema_sub.add_parser("export", help="write schema/schema.graphql")
    dev.add_parser(sub)
    retention.add_parser(sub)
    backup.add_parser(sub)
    staff.add_parser(sub)
    vuln.add_parser(sub)
    subprocessors.add_parser(sub)
    incidents.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "run": commands.run,
        "serve": commands.serve,
        "worker": commands.worker,
        "migrate": commands.migrate,
        "stack": commands.stack,
        "tenants": lambda a: asyncio.run(commands.tenants(a)),
        "schema": commands.schema,
        "demo": commands.demo,
        "keys": lambda a: asyncio.run(commands.keys(a)),
        "dev": dev.dev,
        "retention": lambda a: asyncio.run(retention.retention(a)),
        "backup": lambda a: asyncio.run(backup.backup(a)),
        "staff": lambda a: asyncio.run(staff.staff(a)),
        "vuln": lambda a: asyncio.run(vuln.vuln(a)),
        "subprocessors": lambda a: asyncio.run(subprocessors.subprocessors(a)),
        "incident": lambda a: asyncio.run(incidents.incident(a)),
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
