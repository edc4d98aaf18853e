"""`audora incident ...`: incidents from the operator's shell (the console does the same).

  open --title T --severity SEV1..SEV4 --component C [...] [--message M]
  list                         every incident, newest first, as JSON lines
  show ID                      one incident with its timeline and affected accounts (JSON)
  update ID [--phase P] [--status S --message M | --message M] [--note N]
  confirm ID --tenant ACC [...] --data-affected TEXT --actions TEXT   (emails the owners)
                               again: adds accounts; only their owners are emailed
  notify ID                    email the owners of affected accounts not yet told
  report ID --file F           save the post-incident report's draft (Markdown; - for stdin)
  publish ID [--file F]        publish the report (the file, else the saved draft)

Each is recorded in the incident's timeline and the staff audit log with the operator's
login name; `show` prints private fields and is for staff only.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from audora.platform import ids
from audora.platform.config import get_settings
from audora.platform.errors import AppError, ErrorCode
from audora.platform.incidents import notify, service
from audora.platform.incidents.model import COMPONENTS, PHASES, Actor, Incident, PublicStatus
from audora.platform.runtime import Runtime


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def private_view(incident: Incident, *, full: bool) -> dict[str, Any]:
    """The staff's view (private fields included)."""
    view: dict[str, Any] = {
        "id": service.public_id(incident.id),
        "title": incident.title,
        "severity": incident.severity.value,
        "phase": incident.phase.value,
        "status": incident.public_status.value,
        "components": list(incident.components),
        "customer_data_involved": incident.customer_data_involved,
        "opened_at": incident.opened_at.isoformat(),
        "confirmed_at": _iso(incident.confirmed_at),
        "notified_at": _iso(incident.notified_at),
        "resolved_at": _iso(incident.resolved_at),
        "report_due": _iso(incident.report_due),
        "report_published_at": _iso(incident.report_published_at),
        "closed_at": _iso(incident.closed_at),
    }
    if full:
        view["data_affected"] = incident.data_affected
        view["actions_taken"] = incident.actions_taken
        view["report_markdown"] = incident.report_markdown
        view["tenants"] = [
            {
                "account": ids.encode(ids.Kind.ACCOUNT, t.account_id),
                "confirmed_at": t.confirmed_at.isoformat(),
                "notify_due": t.notify_due.isoformat(),
                "notified_at": _iso(t.notified_at),
                "notified_owners": t.notified_owners,
            }
            for t in incident.tenants
        ]
        view["timeline"] = [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "kind": e.kind,
                "phase": e.phase.value if e.phase else None,
                "status": e.public_status.value if e.public_status else None,
                "public": e.public,
                "message": e.message,
            }
            for e in incident.timeline
        ]
    return view


def _account(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.strip().removeprefix("acc_"))
    except ValueError:
        raise AppError(f"not an account id: {value}", code=ErrorCode.BAD_USER_INPUT) from None


def _read(path: str) -> str:
    return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")


async def _run(runtime: Runtime, args: argparse.Namespace, actor: Actor) -> Incident | None:
    command = args.incident_command
    if command == "open":
        return await service.open_incident(
            runtime,
            actor,
            title=args.title,
            severity=args.severity,
            components=args.component,
            message=args.message,
        )
    if command == "list":
        for incident in await service.list_incidents(runtime):
            sys.stdout.write(json.dumps(private_view(incident, full=False)) + "\n")
        return None
    incident_id = service.parse_id(args.id)
    if command == "show":
        return await service.get_incident(runtime, incident_id)
    if command == "update":
        if not (args.phase or args.message or args.note):
            raise AppError(
                "say --phase, --message (with --status) or --note",
                code=ErrorCode.BAD_USER_INPUT,
            )
        if args.status and not args.message:
            raise AppError(
                "a status change needs a public --message", code=ErrorCode.BAD_USER_INPUT
            )
        result = None
        if args.phase:
            result = await service.advance_phase(runtime, actor, incident_id, args.phase, args.note)
        if args.message:
            result = await service.post_update(
                runtime, actor, incident_id, message=args.message, status=args.status
            )
        if args.note and not args.phase:
            result = await service.add_note(runtime, actor, incident_id, args.note)
        return result
    if command == "confirm":
        return await service.confirm(
            runtime,
            actor,
            incident_id,
            account_ids=[_account(a) for a in args.tenant],
            data_affected=args.data_affected,
            actions_taken=args.actions,
        )
    if command == "notify":
        told = await notify.notify_pending(runtime, actor, incident_id)
        sys.stderr.write(f"owners of {told} account(s) told\n")
        return await service.get_incident(runtime, incident_id)
    if command == "report":
        return await service.save_report(runtime, actor, incident_id, _read(args.file))
    markdown = _read(args.file) if args.file else None
    return await service.publish_report(runtime, actor, incident_id, markdown)


async def incident(args: argparse.Namespace) -> int:
    actor = Actor(label=f"operator:{getpass.getuser()}")
    runtime = Runtime.open(get_settings())
    try:
        shown = await _run(runtime, args, actor)
    except (AppError, OSError) as exc:
        message = exc.message if isinstance(exc, AppError) else str(exc)
        sys.stderr.write(f"audora incident {args.incident_command}: {message}\n")
        return 1
    finally:
        await runtime.close()
    if shown is not None:
        if untold := [t for t in shown.tenants if t.notified_at is None]:
            sys.stderr.write(
                f"owners of {len(untold)} account(s) are not told yet: "
                "run `audora incident notify` again\n"
            )
        sys.stdout.write(json.dumps(private_view(shown, full=True), indent=2) + "\n")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("incident", help="incidents and the public status page (R1-R5)")
    inc = parser.add_subparsers(dest="incident_command", required=True)
    opened = inc.add_parser("open", help="open an incident (public at once, investigating)")
    opened.add_argument("--title", required=True, help="public: shown on the status page")
    opened.add_argument("--severity", required=True, help="SEV1 (critical) .. SEV4 (low)")
    opened.add_argument(
        "--component",
        action="append",
        required=True,
        help=f"an affected component (repeat): {', '.join(COMPONENTS)}",
    )
    opened.add_argument("--message", help="the first public update")
    inc.add_parser("list", help="every incident as JSON lines, newest first")
    show = inc.add_parser("show", help="one incident, private fields included")
    show.add_argument("id", help="the incident id (inc_<hex>)")
    upd = inc.add_parser("update", help="next phase, a public update, or a private note")
    upd.add_argument("id")
    upd.add_argument("--phase", help=f"the next phase: {', '.join(p.value for p in PHASES)}")
    upd.add_argument("--status", help=f"public status: {', '.join(s.value for s in PublicStatus)}")
    upd.add_argument("--message", help="a public update for the status page")
    upd.add_argument("--note", help="a private timeline note (with --phase: its remark)")
    conf = inc.add_parser(
        "confirm",
        help="customer data involved: email the affected owners (again: add accounts)",
    )
    conf.add_argument("id")
    conf.add_argument("--tenant", action="append", required=True, help="account id (repeat)")
    conf.add_argument("--data-affected", required=True, help="what data, and how")
    conf.add_argument("--actions", required=True, help="what was done")
    told = inc.add_parser("notify", help="email owners of affected accounts not yet told")
    told.add_argument("id")
    report = inc.add_parser("report", help="save the post-incident report's draft")
    report.add_argument("id")
    report.add_argument("--file", required=True, help="Markdown file, or - for stdin")
    publish = inc.add_parser("publish", help="publish the report on the status page")
    publish.add_argument("id")
    publish.add_argument("--file", help="Markdown file, or - (default: the saved draft)")
