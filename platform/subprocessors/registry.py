"""The subprocessors Audora's code can send data to (PROMISES S1, S5), published at
`/subprocessors` and `/subprocessors.json`.

The registry is code: adding a subprocessor is a reviewed change that names its
effective date. One that processes call data must be announced to every account owner
(`audora subprocessors announce`) at least `NOTICE_DAYS` before that date, and the
processing code refuses to use it earlier (`require_effective`): a hosted transcriber,
generator or meeting-bot provider that is not registered, or not yet effective, is an
error the job reports instead of a request that sends call data.

Being effective is not enough for one added after launch: the gate also wants the
record of its announcement (platform/subprocessors/records.py), made for its registered
effective date, every owner's message accepted, at least `NOTICE_DAYS` before that date.
So a reviewer who registers a provider and forgets to announce it has not given it call
data. The launch list (`LAUNCH_KEYS`) owes no announcement: it is the list customers
agreed to when they signed up, and there was no one to notify before. Customer-chosen
integrations (Linear, Notion) owe none either: an account's own people decide to send
their documents there, which is the consent a notice would stand in for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from audora.platform.subprocessors.records import Announcement

NOTICE_DAYS = 14
# The registry key of the meeting-bot provider (AUDORA_BOT_PROVIDER_URL).
BOT_PROVIDER = "recall"


class Retention(StrEnum):
    YES = "yes"
    NO = "no"
    PARTIAL = "partial"


@dataclass(frozen=True)
class Subprocessor:
    key: str
    name: str
    category: str
    data_processed: str
    region: str
    dpa: str
    zero_retention: Retention
    retention_how: str
    training_use: str
    effective: date
    # Receives what is said in calls (audio, transcripts, documents made from them).
    call_data: bool
    # Used only when an account connects it (its own integration), not by default.
    customer_chosen: bool = False

    @property
    def notice_owed(self) -> bool:
        """Owners must be told `NOTICE_DAYS` ahead before it gets call data."""
        return self.call_data and not self.customer_chosen and self.key not in LAUNCH_KEYS

    def as_json(self) -> dict[str, Any]:
        record = asdict(self)
        record["zero_retention"] = self.zero_retention.value
        record["effective"] = self.effective.isoformat()
        return record


_LAUNCH = date(2026, 1, 1)
# The list published at launch, in every account's terms from its first day: these owe
# no announcement. Never add to it: a subprocessor added later is announced.
LAUNCH_KEYS = frozenset(
    {
        "embedded",
        "openai",
        "deepgram",
        "assemblyai",
        "recall",
        "linear",
        "notion",
        "aws-kms",
        "smtp",
        "sentry",
    }
)

REGISTRY: tuple[Subprocessor, ...] = (
    Subprocessor(
        key="embedded",
        name="Audora embedded stack (self-hosted)",
        category="Hosting: database, object store, queue, transcription, generation",
        data_processed="All account data; nothing leaves Audora's own hosts",
        region="Where Audora is deployed",
        dpa="Not a third party",
        zero_retention=Retention.NO,
        retention_how="Kept under Audora's own retention settings",
        training_use="None",
        effective=_LAUNCH,
        call_data=False,
    ),
    Subprocessor(
        key="openai",
        name="OpenAI",
        category="Transcription and document generation (when configured)",
        data_processed="Call audio, transcripts, generated documents",
        region="United States",
        dpa="OpenAI Data Processing Addendum",
        zero_retention=Retention.PARTIAL,
        retention_how="API data not used for training; zero data retention where enabled",
        training_use="No (API terms)",
        effective=_LAUNCH,
        call_data=True,
    ),
    Subprocessor(
        key="deepgram",
        name="Deepgram",
        category="Transcription (when configured)",
        data_processed="Call audio, transcripts",
        region="United States",
        dpa="Deepgram Data Processing Agreement",
        zero_retention=Retention.PARTIAL,
        retention_how="Requests sent with mip_opt_out (no model improvement)",
        training_use="No (opted out per request)",
        effective=_LAUNCH,
        call_data=True,
    ),
    Subprocessor(
        key="assemblyai",
        name="AssemblyAI",
        category="Transcription (when configured)",
        data_processed="Call audio, transcripts",
        region="United States",
        dpa="AssemblyAI Data Processing Addendum",
        zero_retention=Retention.PARTIAL,
        retention_how="Transcript deleted at AssemblyAI once fetched",
        training_use="No (DPA)",
        effective=_LAUNCH,
        call_data=True,
    ),
    Subprocessor(
        key="recall",
        name="Recall.ai",
        category="Meeting bot (when an account sends a bot)",
        data_processed="Meeting audio, participant names, speaker timeline",
        region="United States",
        dpa="Recall.ai Data Processing Agreement",
        zero_retention=Retention.PARTIAL,
        retention_how="Timed retention requested per bot; media deleted once fetched",
        training_use="None",
        effective=_LAUNCH,
        call_data=True,
    ),
    Subprocessor(
        key="linear",
        name="Linear",
        category="Task export (customer-chosen integration)",
        data_processed="Task lists an account chooses to export",
        region="United States",
        dpa="Linear Data Processing Addendum",
        zero_retention=Retention.NO,
        retention_how="Kept in the customer's own Linear workspace",
        training_use="None",
        effective=_LAUNCH,
        call_data=True,
        customer_chosen=True,
    ),
    Subprocessor(
        key="notion",
        name="Notion",
        category="Document export (customer-chosen integration)",
        data_processed="Documents an account chooses to export",
        region="United States",
        dpa="Notion Data Processing Addendum",
        zero_retention=Retention.NO,
        retention_how="Kept in the customer's own Notion workspace",
        training_use="None",
        effective=_LAUNCH,
        call_data=True,
        customer_chosen=True,
    ),
    Subprocessor(
        key="aws-kms",
        name="Amazon Web Services KMS",
        category="Key management (when configured)",
        data_processed="Wrapped tenant key-encryption keys; no content",
        region="Configured AWS region",
        dpa="AWS Data Processing Addendum",
        zero_retention=Retention.NO,
        retention_how="Keys kept until scheduled for deletion",
        training_use="None",
        effective=_LAUNCH,
        call_data=False,
    ),
    Subprocessor(
        key="smtp",
        name="SMTP provider (AUDORA_SMTP_URL)",
        category="Transactional email",
        data_processed="Recipient addresses, notification text; no call content",
        region="Per the configured provider",
        dpa="The configured provider's DPA",
        zero_retention=Retention.NO,
        retention_how="Delivery logs per the provider",
        training_use="None",
        effective=_LAUNCH,
        call_data=False,
    ),
    Subprocessor(
        key="sentry",
        name="Sentry",
        category="Error monitoring (only when a DSN is set)",
        data_processed="Scrubbed error reports: no emails, tokens, IPs or customer content",
        region="Per the configured DSN",
        dpa="Sentry Data Processing Addendum",
        zero_retention=Retention.NO,
        retention_how="Events kept per the Sentry plan",
        training_use="None",
        effective=_LAUNCH,
        call_data=False,
    ),
)


class SubprocessorNotEffective(ValueError):
    """Call data would go to a subprocessor that is not registered or not yet effective."""


def find(key: str) -> Subprocessor | None:
    """The entry with this key or name (either case)."""
    wanted = key.strip().casefold()
    return next((s for s in REGISTRY if wanted in (s.key, s.name.casefold())), None)


def notified_on(entry: Subprocessor, announcements: Sequence[Announcement]) -> date | None:
    """The day every owner had been told of `entry` at its registered effective date:
    its earliest complete announcement for that date, if any."""
    return min(
        (
            a.announced_at.date()
            for a in announcements
            if a.subprocessor == entry.key and a.effective == entry.effective and a.complete
        ),
        default=None,
    )


def require_effective(
    key: str, now: datetime, announcements: Sequence[Announcement] = ()
) -> Subprocessor:
    """The registered subprocessor `key`, if `now` is on or after its effective date
    and, for one added after launch that processes call data, its announcement is on
    record `NOTICE_DAYS` before that date (`announcements`: the recorded ones)."""
    entry = find(key)
    if entry is None:
        raise SubprocessorNotEffective(
            f"{key!r} is not a registered subprocessor: it may not receive call data"
        )
    if now.date() < entry.effective:
        raise SubprocessorNotEffective(
            f"subprocessor {entry.name} is effective from {entry.effective.isoformat()}:"
            " it may not receive call data before then"
        )
    if entry.notice_owed:
        told = notified_on(entry, announcements)
        if told is None or told > entry.effective - timedelta(days=NOTICE_DAYS):
            raise SubprocessorNotEffective(
                f"subprocessor {entry.name} has no announcement to account owners on record"
                f" {NOTICE_DAYS} days before {entry.effective.isoformat()}:"
                " it may not receive call data"
            )
    return entry
