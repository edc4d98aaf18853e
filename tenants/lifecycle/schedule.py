"""The retention schedule: how long each class of data is kept, what happens to it
then, on what basis, and which job does it. One table, read by the jobs (their
periods come from here, not from constants of their own) and rendered into
`docs/retention.md` by `make schema`, so the page and the code cannot disagree.

A row whose `job` is None is a promise not yet carried by code; the rendered page says
so rather than implying it is enforced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class DataClass(StrEnum):
    CALL_AUDIO = "call audio"
    PROVIDER_MEDIA = "the meeting-bot provider's copy of a recording"
    CALL_CONTENT = "transcripts and generated documents"
    ACCESS_LOG = "access logs"
    BILLING = "billing records"
    SESSIONS = "expired and revoked sessions"
    UPLOAD_TICKETS = "expired upload tickets"
    INVITATIONS = "expired invitations"
    EXPORTS = "data exports"
    WEBHOOK_DELIVERIES = "webhook delivery logs"
    BACKUPS = "tenant backups"


@dataclass(frozen=True)
class Retention:
    data: DataClass
    keep: timedelta | None
    keep_words: str
    action: str
    basis: str
    job: str | None


DAY = timedelta(days=1)

SCHEDULE: tuple[Retention, ...] = (
    Retention(
        DataClass.CALL_AUDIO,
        timedelta(hours=72),
        "72 hours after its transcript is stored (configurable shorter, never longer)",
        "the recording's data key is destroyed (cryptographic erasure), then the object "
        "and every version of it are deleted and the deletion confirmed by listing",
        "data minimisation: audio is needed only to transcribe (GDPR Art. 5(1)(c))",
        "tenants/recordings/retention.py: delete_due_recordings (cron every 10 minutes)",
    ),
    Retention(
        DataClass.PROVIDER_MEDIA,
        None,
        "until Audora has fetched it; the provider's own timed retention "
        "(AUDORA_BOT_PROVIDER_RETENTION_HOURS, 24) is asked for as a backstop",
        "the provider is asked to delete it and the deletion is verified (its URL answers "
        "404 or 410), audited, and retried up to five times if unverified",
        "S2: no raw audio stays with a subprocessor after transfer",
        "tenants/meeting_bots/jobs.py: fetch_bot_recording_job, delete_bot_media_job",
    ),
    Retention(
        DataClass.CALL_CONTENT,
        timedelta(days=30),
        "the subscription, then 30 days of grace after the account closes",
        "the tenant's keys are destroyed and its schema and bucket deleted (purge)",
        "contract: the customer's working data, kept while they use the service",
        "tenants/lifecycle/purge.py: purge_due_accounts (in the retention run, every 10 minutes)",
    ),
    Retention(
        DataClass.ACCESS_LOG,
        timedelta(days=365),
        "12 months (AUDORA_ACCESS_LOG_MONTHS)",
        "the rows are deleted, daily",
        "security monitoring and the customer's right to see access (legitimate interest)",
        "tenants/access_log/expiry.py: expire_access_logs (daily cron)",
    ),
    Retention(
        DataClass.BILLING,
        timedelta(days=7 * 365 + 2),  # seven years, leap days included
        "7 years, in the platform schema: amounts, dates and processor ids, no call content",
        "deleted",
        "legal obligation: tax and accounting records",
        "platform/billing/records.py: delete_expired_billing_records (retention run)",
    ),
    Retention(
        DataClass.SESSIONS,
        timedelta(days=30),
        "refused once revoked or idle 24 hours; the row kept 30 days more as history",
        "deleted",
        "security: a session is a credential; its history serves investigations",
        "tenants/lifecycle/credentials.py: delete_expired_credentials (retention run)",
    ),
    Retention(
        DataClass.UPLOAD_TICKETS,
        DAY,
        "refused after 15 minutes or one use; the row kept a day more",
        "deleted",
        "security: a ticket is a credential",
        "tenants/lifecycle/credentials.py: delete_expired_credentials (retention run)",
    ),
    Retention(
        DataClass.INVITATIONS,
        timedelta(days=30),
        "refused after 72 hours (AUDORA_INVITATION_HOURS), acceptance or withdrawal;"
        " the row kept 30 days more",
        "deleted",
        "security: an invitation is a credential",
        "tenants/lifecycle/credentials.py: delete_expired_credentials (retention run)",
    ),
    Retention(
        DataClass.EXPORTS,
        DAY,
        "24 hours after they are built",
        "the archive's data key is dropped, then every version of it deleted from the "
        "bucket, and its links",
        "the customer's request; kept only long enough to download",
        "tenants/lifecycle/export.py: sweep_exports (in the retention run, every 10 minutes)",
    ),
    Retention(
        DataClass.WEBHOOK_DELIVERIES,
        timedelta(days=30),
        "outbound pushes: 30 days after they finish; inbound meeting-bot delivery ids: 24 hours",
        "deleted (inbound ids expire in Redis)",
        "operations: deduplication and support",
        "tenants/integrations/retention.py: delete_finished_pushes (retention run);"
        " tenants/meeting_bots/http.py (Redis TTL)",
    ),
    Retention(
        DataClass.BACKUPS,
        timedelta(days=30),
        "30 days after they are taken (daily, in a bucket apart from the tenant's); "
        "unreadable at once when the tenant's key is destroyed",
        "every version of the object and its catalogue row are deleted",
        "availability and recovery (legitimate interest; promise I2)",
        "tenants/backups/service.py: expire_backups (daily cron, with the backups)",
    ),
)


def retention_of(data: DataClass) -> Retention:
    return next(row for row in SCHEDULE if row.data == data)


def period_of(data: DataClass) -> timedelta:
    """How long `data` is kept, for a job that acts on it: only rows with a period."""
    keep = retention_of(data).keep
    if keep is None:
        raise LookupError(f"the retention schedule gives {data} no period")
    return keep


def render_markdown() -> str:
    lines = [
        "# Retention schedule",
        "",
        "Generated from `tenants/lifecycle/schedule.py` by `make schema`; a test keeps it",
        "current. A row with no job is a commitment not yet enforced by code.",
        "",
        "| data | kept | then | basis | enforced by |",
        "|---|---|---|---|---|",
    ]
    for row in SCHEDULE:
        job = f"`{row.job}`" if row.job else "not yet enforced by a job"
        lines.append(f"| {row.data} | {row.keep_words} | {row.action} | {row.basis} | {job} |")
    return "\n".join(lines) + "\n"
