"""`audora subprocessors list`: the registry as JSON lines.
`audora subprocessors announce --name X --effective YYYY-MM-DD`: email every live
account's owner about a registered subprocessor, refused unless the date is at least
14 days ahead by the application clock."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from audora.platform.config import get_settings
from audora.platform.errors import AppError
from audora.platform.runtime import Runtime
from audora.platform.subprocessors.announce import announce
from audora.platform.subprocessors.registry import REGISTRY


async def subprocessors(args: argparse.Namespace) -> int:
    if args.subprocessors_command == "list":
        for entry in REGISTRY:
            sys.stdout.write(json.dumps(entry.as_json()) + "\n")
        return 0
    try:
        effective = date.fromisoformat(args.effective)
    except ValueError:
        sys.stderr.write(f"audora subprocessors announce: not a date: {args.effective}\n")
        return 2
    runtime = Runtime.open(get_settings())
    try:
        owners = await announce(runtime, args.name, effective)
    except AppError as exc:
        sys.stderr.write(f"audora subprocessors announce: {exc.message}\n")
        return 1
    finally:
        await runtime.close()
    sys.stdout.write(f"announced to {len(owners)} account owners\n")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("subprocessors", help="the subprocessor registry")
    sub_sub = parser.add_subparsers(dest="subprocessors_command", required=True)
    sub_sub.add_parser("list", help="the registry as JSON lines")
    notice = sub_sub.add_parser("announce", help="email every account owner about one")
    notice.add_argument("--name", required=True, help="its registry key or name")
    notice.add_argument("--effective", required=True, help="its effective date, YYYY-MM-DD")
