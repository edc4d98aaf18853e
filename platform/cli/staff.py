"""`audora staff create --email ... --name ...`: a staff account for the break-glass
console, awaiting enrollment; prints the one-time enrollment link (send it to the
person by a channel you trust: whoever follows it first sets the password and key).
`audora staff list`: staff accounts, enrolled or not, with their keys' attestation."""

from __future__ import annotations

import argparse
import json
import sys

from sqlalchemy import func, select

from audora.platform.config import get_settings
from audora.platform.errors import AppError
from audora.platform.runtime import Runtime
from audora.platform.staff.accounts import create_staff
from audora.platform.staff.tables import staff_credentials, staff_users


async def staff(args: argparse.Namespace) -> int:
    runtime = Runtime.open(get_settings())
    try:
        if args.staff_command == "create":
            try:
                staff_id, link = await create_staff(runtime, args.email, args.name)
            except AppError as exc:
                sys.stderr.write(f"audora staff create: {exc.message}\n")
                return 1
            sys.stdout.write(f"staff {staff_id}\nenrollment link (one use): {link}\n")
            return 0
        async with runtime.platform_engine.connect() as conn:
            rows = await conn.execute(
                select(
                    staff_users.c.id,
                    staff_users.c.email,
                    staff_users.c.enrolled_at,
                    func.array_agg(staff_credentials.c.attestation_format).label("formats"),
                )
                .outerjoin(staff_credentials, staff_credentials.c.staff_id == staff_users.c.id)
                .group_by(staff_users.c.id)
                .order_by(staff_users.c.email)
            )
            for row in rows:
                record = {
                    "id": str(row.id),
                    "email": row.email,
                    "enrolled": row.enrolled_at is not None,
                    "keys": [f for f in row.formats if f is not None],
                }
                sys.stdout.write(json.dumps(record) + "\n")
        return 0
    finally:
        await runtime.close()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("staff", help="staff accounts of the break-glass console")
    staff_sub = parser.add_subparsers(dest="staff_command", required=True)
    create = staff_sub.add_parser("create", help="make a staff account; print its enrollment link")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="the full name customers will see")
    staff_sub.add_parser("list", help="staff accounts and their keys")
