"""`audora incident ...` from the operator's shell, as a subprocess against the test
stack: an incident opened, moved, confirmed (the owner is emailed), resolved and its
report published, each step recorded under the operator's login name."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from audora.platform.incidents import notify
from audora.platform.stack.embedded import EmbeddedStack

from audora_testing import REPO, GraphQL, mail_text, mail_to, read_mail, run_audora, sign_up


def _incident(env: dict[str, str], *args: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(run_audora(env, "incident", *args))
    return shown


async def test_operators_run_an_incident_from_the_command_line(
    gql: GraphQL, stack_env: dict[str, str], stack: EmbeddedStack, tmp_path: Path
) -> None:
    owner = await sign_up(gql, "CLI Incident Studio")
    later = await sign_up(gql, "CLI Found Later Studio")
    opened = _incident(
        stack_env,
        "open",
        "--title",
        "Processing delayed",
        "--severity",
        "sev2",
        "--component",
        "processing",
        "--component",
        "api",
    )
    incident_id = opened["id"]
    assert (opened["phase"], opened["status"]) == ("detection", "investigating")
    assert opened["components"] == ["api", "processing"]

    listed = [json.loads(line) for line in run_audora(stack_env, "incident", "list").splitlines()]
    assert incident_id in {i["id"] for i in listed}

    moved = _incident(
        stack_env, "update", incident_id, "--phase", "containment", "--note", "queue paused"
    )
    assert moved["phase"] == "containment"
    confirmed = _incident(
        stack_env,
        "confirm",
        incident_id,
        "--tenant",
        owner["account"]["id"],
        "--data-affected",
        "Job payloads with call titles were logged unencrypted for two hours.",
        "--actions",
        "Logs purged, logging fixed.",
    )
    assert confirmed["notified_at"] is not None
    (message,) = await read_mail(stack.data_dir / "mail", owner["email"], notify.SUBJECT)
    assert "Job payloads with call titles" in mail_text(message)
    assert "Logs purged, logging fixed." in mail_text(message)
    # Confirming again adds an account found later; only its owner is emailed.
    added = _incident(
        stack_env,
        "confirm",
        incident_id,
        "--tenant",
        owner["account"]["id"],
        "--tenant",
        later["account"]["id"],
        "--data-affected",
        "Job payloads with call titles were logged unencrypted for two hours.",
        "--actions",
        "Logs purged, logging fixed.",
    )
    assert {t["account"] for t in added["tenants"]} == {
        owner["account"]["id"],
        later["account"]["id"],
    }
    await read_mail(stack.data_dir / "mail", later["email"], notify.SUBJECT)
    assert len(mail_to(stack.data_dir / "mail", owner["email"], notify.SUBJECT)) == 1

    resolved = _incident(
        stack_env, "update", incident_id, "--status", "resolved", "--message", "Back to normal."
    )
    assert resolved["resolved_at"] is not None
    report = tmp_path / "report.md"
    report.write_text("# Processing delayed\n\nWhat happened.\n")
    published = _incident(stack_env, "publish", incident_id, "--file", str(report))
    assert published["report_published_at"] is not None

    shown = _incident(stack_env, "show", incident_id)
    assert shown["report_markdown"] == "# Processing delayed\n\nWhat happened."
    assert {e["actor"] for e in shown["timeline"]} == {f"operator:{getpass.getuser()}"}
    assert [e["kind"] for e in shown["timeline"]] == [
        "opened",
        "phase",
        "confirmed",
        "notified",
        "confirmed",
        "notified",
        "update",
        "report_published",
    ]


def test_the_command_refuses_bad_input_with_a_message(stack_env: dict[str, str]) -> None:
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "audora.platform.cli.main",
            "incident",
            "open",
            "--title",
            "Outage",
            "--severity",
            "SEV9",
            "--component",
            "api",
        ],
        cwd=REPO,
        env=stack_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 1
    assert "severity must be one of: SEV1, SEV2, SEV3, SEV4" in refused.stderr
