"""P2: customer recordings, transcripts and outputs leave Audora by no path but the few
that exist to serve the call itself: the AI providers an operator chose (with their
retention and training opt-outs), the meeting-bot provider, and the integrations a
person confirmed. Every module that can open a network connection is listed here with
the reason it may; a new one fails this test until someone reviews it and says why."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("platform", "tenants", "schema", "admin")
NETWORK = re.compile(
    r"^(?:import|from) (?:httpx|openai|notion_client|requests|urllib\.request|http\.client"
    r"|aiohttp|boto3|botocore|smtplib|aiosmtplib|socket|sentry_sdk)\b"
    r"|\b(?:outbound_client|outbound_sync_client|guarded_client)\(",
    re.M,
)

ALLOWED = {
    # The one way out, and the SSRF guard under it: verified TLS, https, no redirects.
    "platform/http/outbound.py": "the outbound client every path below uses",
    "platform/http/destinations.py": "the SSRF guard's connect-time address check",
    # Infrastructure: keys, objects and mail of Audora's own stack.
    "platform/keys/aws_kms.py": "the hosted key service: data keys, never content",
    "platform/mail/sender.py": "transactional mail: notices and links, never call content",
    "platform/monitoring.py": "error reports to Sentry, only when a DSN is set, scrubbed (S4)",
    "platform/tracing/export.py": "spans (route templates, job names; no content) to a collector",
    "platform/storage/backup_store.py": "the backup bucket (encrypted dumps)",
    "platform/storage/iam_identities.py": "the object store's identities",
    "platform/storage/s3_admin.py": "the object store's administration",
    "platform/storage/seaweed_identities.py": "the embedded object store's identities",
    "platform/storage/signed_requests.py": "a sign-up's bucket and its encryption setting",
    "platform/storage/tenant_bucket.py": "the tenant's own bucket (encrypted objects)",
    "tenants/backups/drill.py": "reads the backup bucket for the restore drill",
    "platform/cli/demo.py": "the demo talks to Audora's own API",
    "platform/stack/ports.py": "the embedded stack's ports on loopback (a free one chosen)",
    "platform/stack/process.py": "the embedded stack's ports on loopback (a server ready)",
    # AI providers, each chosen by settings, each request one call's content only.
    "tenants/documents/hosted.py": "the hosted document generator (store=false)",
    "tenants/transcription/openai_compatible.py": "hosted transcription (OpenAI-compatible)",
    "tenants/transcription/deepgram.py": "hosted transcription (mip_opt_out=true)",
    "tenants/transcription/assemblyai.py": "hosted transcription (transcript deleted after)",
    # The meeting bot that records the call, and fetching its recording home.
    "tenants/meeting_bots/provider.py": "the meeting-bot provider's API",
    "tenants/meeting_bots/jobs.py": "fetching the bot's recording, asking for its deletion",
    # Task lists pushed where a person confirmed.
    "tenants/integrations/delivery.py": "judging a destination's answers",
    "tenants/integrations/jobs.py": "the confirmed push",
    "tenants/integrations/linear.py": "Linear's API",
    "tenants/integrations/notion.py": "Notion's API",
    "tenants/integrations/webhook.py": "a signed outbound webhook",
}


def _network_modules() -> set[str]:
    found = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if NETWORK.search(path.read_text()):
                found.add(path.relative_to(REPO).as_posix())
    return found


def test_customer_content_can_leave_only_by_the_reviewed_paths() -> None:
    assert _network_modules() == set(ALLOWED)
