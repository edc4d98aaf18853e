"""`audora tenants clusters | cluster | move`: where tenants live (docs/scaling.md).

- `clusters`: every recorded cluster, its state, capacity weight and tenant count.
- `cluster --name N [--state OPEN|DRAINING|CLOSED] [--weight W]`: change one; new tenants
  go to OPEN clusters only, by tenants per unit of weight.
- `move --tenant ID --to CLUSTER`: copy the tenant's schema to another cluster under a
  short read-only window, verify it, switch its placement and drop the source
  (tenants/placement/move.py). Prints the outcome as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from typing import TYPE_CHECKING

from audora.platform.errors import AppError

if TYPE_CHECKING:
    from audora.platform.runtime import Runtime

COMMANDS = frozenset({"clusters", "cluster", "move"})


def add_parsers(tenants_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tenants_sub.add_parser("clusters", help="tenant clusters: state, weight, tenants")
    cluster = tenants_sub.add_parser("cluster", help="change a cluster's state or weight")
    cluster.add_argument("--name", required=True, help="the cluster's name")
    cluster.add_argument("--state", choices=["OPEN", "DRAINING", "CLOSED"], default=None)
    cluster.add_argument("--weight", type=int, default=None, help="relative capacity, >= 1")
    move = tenants_sub.add_parser(
        "move", help="move a tenant to another cluster (dump, restore, verify, switch)"
    )
    move.add_argument("--tenant", required=True, help="the account id (acc_<hex> or a UUID)")
    move.add_argument("--to", required=True, dest="target", help="the cluster to move to")


def _say(step: str) -> None:
    sys.stderr.write(f"{step}\n")


async def run(runtime: Runtime, args: argparse.Namespace) -> int:
    from audora.tenants.placement.clusters import cluster_loads, set_cluster
    from audora.tenants.placement.move import describe, move_tenant

    try:
        if args.tenants_command == "clusters":
            for name, state, weight, tenants in await cluster_loads(runtime.tenant_engines):
                sys.stdout.write(f"{name}  {state}  weight {weight}  {tenants} tenants\n")
        elif args.tenants_command == "cluster":
            await set_cluster(
                runtime.tenant_engines, args.name, state=args.state, weight=args.weight
            )
            sys.stdout.write(f"{args.name} changed\n")
        else:
            try:
                account_id = uuid.UUID(args.tenant.removeprefix("acc_"))
            except ValueError:
                sys.stderr.write(f"not an account id: {args.tenant}\n")
                return 2
            moved = await move_tenant(
                runtime,
                account_id,
                args.target,
                on_step=_say,
            )
            sys.stdout.write(json.dumps(describe(moved), sort_keys=True) + "\n")
    except AppError as exc:
        sys.stderr.write(f"{exc.message}\n")
        return 1
    return 0
