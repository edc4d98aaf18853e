"""`audora tenants lapse | renew | purge`: billing's and the operator's side of the
account lifecycle (tenants/lifecycle/).

- `lapse --tenant ID --reason ...`: the subscription lapsed (billing's entry point); the
  account is read-only for its 30-day grace, then purged, as a closure is.
- `renew --tenant ID`: a lapsed subscription renewed within its grace.
- `purge --tenant ID`: purge now an account whose grace has ended, or finish an
  interrupted purge. `--now-i-am-sure` skips the wait for the grace, in dev and test only.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import uuid
from typing import TYPE_CHECKING

from audora.platform.errors import AppError

if TYPE_CHECKING:
    from audora.platform.runtime import Runtime


def add_parsers(tenants_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lapse = tenants_sub.add_parser(
        "lapse", help="a subscription lapsed: read-only for 30 days of grace, then purged"
    )
    lapse.add_argument("--tenant", required=True, help="the account id (acc_<hex> or a UUID)")
    lapse.add_argument("--reason", default="subscription lapsed", help="kept in its audit log")
    renew = tenants_sub.add_parser("renew", help="a lapsed subscription renewed within grace")
    renew.add_argument("--tenant", required=True, help="the account id (acc_<hex> or a UUID)")
    purge = tenants_sub.add_parser(
        "purge", help="delete a closed account whose grace has ended (or finish its purge)"
    )
    purge.add_argument("--tenant", required=True, help="the account id (acc_<hex> or a UUID)")
    purge.add_argument(
        "--now-i-am-sure",
        dest="now_i_am_sure",
        action="store_true",
        help="dev and test only: purge a closed account before its grace ends",
    )


COMMANDS = frozenset({"lapse", "renew", "purge"})


async def run(runtime: Runtime, args: argparse.Namespace) -> int:
    from audora.tenants.lifecycle.closure import lapse_account, renew_account
    from audora.tenants.lifecycle.purge import purge_account

    try:
        account_id = uuid.UUID(args.tenant.removeprefix("acc_"))
    except ValueError:
        sys.stderr.write(f"not an account id: {args.tenant}\n")
        return 2
    actor = f"operator:{getpass.getuser()}"
    try:
        if args.tenants_command == "lapse":
            state = await lapse_account(runtime, account_id, actor=actor, reason=args.reason)
            sys.stdout.write(f"{account_id} LAPSED; purged after {state.purge_after}\n")
        elif args.tenants_command == "renew":
            await renew_account(runtime, account_id, actor=actor)
            sys.stdout.write(f"{account_id} ACTIVE\n")
        else:
            outcome = await purge_account(runtime, account_id, before_grace_ends=args.now_i_am_sure)
            sys.stdout.write(json.dumps(outcome.certificate, sort_keys=True) + "\n")
    except AppError as exc:
        sys.stderr.write(f"{exc.message}\n")
        return 1
    return 0
