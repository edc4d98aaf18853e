"""`audora demo`: a newcomer's first five minutes, on a running stack (`make run`).

It does over the public API what a frontend would: signs up a demo account (a unique
email and a generated password, both printed), creates a client profile and a call with
its consent attestation, asks for an upload URL and PUTs the project's sample call
(`platform/demo/sample_call.ogg`, 34 seconds of synthetic speech), then polls the call's
status with a progress bar on stderr until it is READY, and prints the transcript and
the four documents, with the GraphiQL URL to explore them. A FAILED call prints its
reason and exits 1; no result within `--timeout` exits 2.

The API URL is the running stack's (`.data/stack.json`, as `audora stack env` prints
it) unless `--api-url` names another; its certificate is verified against the local CA
(`.data/tls/ca.pem`) or `--ca-file`. Nothing here reads the database or the key service:
only what any client of the API could do.
"""

from __future__ import annotations

import json
import secrets
import ssl
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx

DEMO = Path(__file__).resolve().parent.parent / "demo"
SAMPLE = DEMO / "sample_call.ogg"
SCRIPT = DEMO / "sample_call.json"
STAGES = ("AWAITING_RECORDING", "TRANSCRIBING", "GENERATING", "READY")
KIND_TITLES = {
    "PRD": "Product requirements",
    "TASK_LIST": "Task list",
    "SOW": "Statement of work",
    "CLIENT_BRIEF": "Client brief",
}

SIGN_UP = """
mutation($input: SignUpInput!) { signUp(input: $input) { token account { id name } } }
"""
CREATE_PROFILE = """
mutation($input: CreateClientProfileInput!) { createClientProfile(input: $input) { id } }
"""
CREATE_CALL = "mutation($input: CreateCallInput!) { createCall(input: $input) { id } }"
CREATE_UPLOAD = """
mutation($callId: ID!) { createRecordingUpload(callId: $callId) { uploadUrl } }
"""
STATUS = "query($id: ID!) { call(id: $id) { status failureReason } }"
RESULTS = """
query($id: ID!) { call(id: $id) {
  transcript { text segments { startSeconds speaker text } }
  documents { kind title markdown version }
} }
"""


class DemoError(Exception):
    """Something the API refused or could not do; the message says what."""


@dataclass(frozen=True)
class Options:
    api_url: str
    ca_file: Path
    timeout_seconds: float
    poll_seconds: float = 1.0


class Api:
    """The few GraphQL calls the demo makes, over verified TLS."""

    def __init__(self, options: Options) -> None:
        context = ssl.create_default_context(cafile=str(options.ca_file))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.base = options.api_url.rstrip("/")
        self.http = httpx.Client(verify=context, timeout=60, trust_env=False)
        self.token: str | None = None

    def close(self) -> None:
        self.http.close()

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.http.post(
            f"{self.base}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            raise DemoError(f"the API answered HTTP {response.status_code}") from None
        if body.get("errors"):
            error = body["errors"][0]
            code = error.get("extensions", {}).get("code", "?")
            raise DemoError(f"{error.get('message')} ({code})")
        data: dict[str, Any] = body["data"]
        return data

    def upload(self, url: str, audio: bytes, content_type: str) -> None:
        response = self.http.put(url, content=audio, headers={"content-type": content_type})
        if response.status_code != 201:
            raise DemoError(f"the upload answered HTTP {response.status_code}: {response.text}")


class Progress:
    """A bar redrawn in place on a terminal; one line per stage otherwise (logs, CI)."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last: str | None = None
        self.drawn = False  # a bar is on the terminal's current line

    def show(self, status: str, elapsed: float) -> None:
        step = STAGES.index(status) + 1 if status in STAGES else 0
        if self.tty:
            filled = self.WIDTH * step // len(STAGES)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.stream.write(f"\r[{bar}] {status.lower().replace('_', ' '):<20}{elapsed:5.0f}s")
            self.drawn = True
        elif status != self.last:
            self.stream.write(f"[{step}/{len(STAGES)}] {status} after {elapsed:.0f}s\n")
        self.stream.flush()
        self.last = status

    def end(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def _timestamp(seconds: float) -> str:
    return f"{int(seconds) // 60:02d}:{int(seconds) % 60:02d}"


def _print_transcript(out: TextIO, transcript: dict[str, Any]) -> None:
    out.write("\n## Transcript\n\n")
    for segment in transcript["segments"]:
        speaker = f"{segment['speaker']}: " if segment["speaker"] else ""
        out.write(f"[{_timestamp(segment['startSeconds'])}] {speaker}{segment['text']}\n")
    out.flush()


def _print_documents(out: TextIO, documents: list[dict[str, Any]]) -> None:
    for document in documents:
        kind = KIND_TITLES.get(document["kind"], document["kind"])
        out.write(f"\n## {kind}: {document['title']} (version {document['version']})\n\n")
        out.write(document["markdown"].rstrip() + "\n")
    out.flush()


def run_demo(options: Options, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """The demo end to end; the process's exit code."""
    script = json.loads(SCRIPT.read_text())
    api = Api(options)
    try:
        return _run(api, options, script, out, err)
    except (DemoError, httpx.HTTPError) as exc:
        err.write(f"\ndemo failed: {exc}\n")
        return 1
    finally:
        api.close()


def _run(api: Api, options: Options, script: dict[str, Any], out: TextIO, err: TextIO) -> int:
    suffix = secrets.token_hex(4)
    email = f"demo-{suffix}@example.com"
    password = secrets.token_urlsafe(18)  # 144 random bits
    signed_up = api.graphql(
        SIGN_UP,
        {
            "input": {
                "accountName": f"Demo Studio {suffix}",
                "email": email,
                "password": password,
                "fullName": "Demo User",
            }
        },
    )["signUp"]
    api.token = signed_up["token"]
    out.write(
        f"Signed up a demo account on {api.base}\n"
        f"  email:    {email}\n  password: {password}\n  token:    {api.token}\n"
    )
    out.flush()
    profile = api.graphql(
        CREATE_PROFILE, {"input": {"name": script["client"], "notes": "Created by audora demo"}}
    )["createClientProfile"]
    consent = {"participantsNotified": True, "methods": ["VERBAL"], "jurisdiction": "US"}
    call_id: str = api.graphql(
        CREATE_CALL,
        {"input": {"clientProfileId": profile["id"], "title": script["title"], "consent": consent}},
    )["createCall"]["id"]
    upload = api.graphql(CREATE_UPLOAD, {"callId": call_id})["createRecordingUpload"]
    api.upload(upload["uploadUrl"], SAMPLE.read_bytes(), "audio/ogg")
    out.write(f"Uploaded the sample call ({SAMPLE.stat().st_size} bytes) as call {call_id}\n")
    out.flush()

    progress = Progress(err)
    started = time.monotonic()
    transcript_shown = False
    try:
        while True:
            call = api.graphql(STATUS, {"id": call_id})["call"]
            status = call["status"]
            progress.show(status, time.monotonic() - started)
            if status == "FAILED":
                progress.end()
                err.write(f"the call FAILED: {call['failureReason']}\n")
                return 1
            if status in ("GENERATING", "READY") and not transcript_shown:
                results = api.graphql(RESULTS, {"id": call_id})["call"]
                if results["transcript"] is not None:
                    progress.end()
                    _print_transcript(out, results["transcript"])
                    transcript_shown = True
            if status == "READY":
                progress.end()
                results = api.graphql(RESULTS, {"id": call_id})["call"]
                _print_documents(out, results["documents"] or [])
                out.write(
                    f"\nExplore them in GraphiQL: {api.base}/graphql (when AUDORA_ENV=dev), with\n"
                    f'  {{"Authorization": "Bearer {api.token}"}}\n'
                    f'  and the query: {{ call(id: "{call_id}") {{ status documents '
                    "{ kind title markdown } } }\n"
                )
                out.flush()
                return 0
            if time.monotonic() - started > options.timeout_seconds:
                progress.end()
                err.write(
                    f"timed out after {options.timeout_seconds:.0f}s with the call {status}; "
                    "is a worker running (`make run` starts one)?\n"
                )
                return 2
            time.sleep(options.poll_seconds)
    finally:
        progress.end()
