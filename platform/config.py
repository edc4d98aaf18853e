"""Settings, read once from `AUDORA_*` environment variables and an optional `.env` file.

Every setting has a default that works for the embedded stack, so a fresh clone runs with
none set. Secrets have no default that could reach production: the embedded stack writes
its generated credentials to `.data/stack.json`, and `load_settings` reads them from there
when the environment does not name them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["dev", "test", "production"]
_CLUSTER_NAME = re.compile(r"\A[a-z][a-z0-9_]{0,31}\Z")


class ClusterUrls(BaseModel):
    """One extra PostgreSQL cluster's URLs, with the same roles and jobs as the primary's
    `database_url`, `gateway_database_url` and `provisioner_database_url`."""

    database_url: str
    gateway_database_url: str
    provisioner_database_url: str


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AUDORA_", env_file=".env", extra="ignore", populate_by_name=True
    )

    env: Environment = "dev"
    # Error monitoring (platform/monitoring.py): off while empty. Events are scrubbed of
    # personal data and customer content (platform/scrub.py) before they are sent.
    sentry_dsn: SecretStr = SecretStr("")
    # Tracing (platform/tracing/): off while empty. An OTLP/HTTP collector's https URL
    # (spans posted to <endpoint>/v1/traces through the outbound client); spans carry
    # route templates, methods, statuses, GraphQL operation types and job names only.
    otel_endpoint: str = ""
    # The share of requests and jobs traced, 0 to 1.
    otel_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    data_dir: Path = Path(".data")

    # PostgreSQL, four roles with four jobs:
    # - `database_url`: the operator's URL (a superuser on the embedded stack), used only by
    #   `audora migrate` and other operator commands, never by the API or the workers;
    # - `app_database_url`: the API's and workers' role for platform rows (sessions,
    #   users, accounts); no tenant role membership at all;
    # - `gateway_database_url`: the tenant pool's role, NOINHERIT, a member of every
    #   tenant role only so that a binding can switch to it, and nothing in `platform`;
    # - `provisioner_database_url`: owns the tenant schemas and may create roles; used only
    #   to provision and migrate tenants, never to serve a request.
    database_url: str = ""
    app_database_url: str = ""
    gateway_database_url: str = ""
    provisioner_database_url: str = ""
    db_pool_size: int = 10
    # Every request holds one platform connection (its session) beside its tenant one,
    # so the two pools are the same size. At 5, eight requests at once kept opening and
    # closing overflow connections: 520 new PostgreSQL sessions (a fork and a SCRAM
    # handshake each) in a 13,000-request bench round, 18 at 10.
    db_platform_pool_size: int = 10
    db_max_overflow: int = 10
    # An application connection idle this long is closed (platform/db/idle_connections.py):
    # idle backends still pay for every sign-up's DDL and keep their catalog caches.
    db_idle_session_seconds: int = Field(default=60, ge=2)
    # Tenant placement (docs/scaling.md): the clusters tenant schemas may live on besides
    # the one above, which is always "primary" and alone holds the platform schema. A
    # JSON map of name -> {database_url, gateway_database_url, provisioner_database_url};
    # each cluster's engines are opened on first use, with the pool sizes above.
    tenant_clusters: dict[str, ClusterUrls] = {}
    # Tenants whose cluster a process remembers (least recently used forgotten first):
    # bounded so that memory stays flat whatever the number of tenants.
    placement_cache_size: int = Field(default=4096, ge=1)

    redis_url: str = ""

    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    # The storage administrator's credentials: create buckets and per-tenant identities.
    s3_admin_access_key: str = Field(
        default="", validation_alias=AliasChoices("AUDORA_S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID")
    )
    s3_admin_secret_key: str = Field(
        default="",
        validation_alias=AliasChoices("AUDORA_S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"),
    )
    bucket_prefix: str = "audora-t-"
    # Where tenant identities are made. Empty: the IAM API (AWS IAM in production, at
    # `s3_iam_endpoint` or the S3 endpoint). Set: SeaweedFS's filer IAM gRPC service at
    # this host:port (the embedded stack sets it).
    s3_iam_endpoint: str = ""
    s3_identity_grpc: str = ""

    # Outgoing mail (security alerts, invitations): smtp://, smtp+starttls:// or smtps://
    # (credentials in the URL only with TLS), and the sender's address.
    smtp_url: str = ""
    mail_from: str = "Audora <security@audora.local>"

    # The key service: "local" (the embedded stack's process, at `kms_socket` with
    # `kms_token`) or "aws-kms" (production; `kms_region`, credentials from the usual
    # AWS environment or instance role).
    key_service: Literal["local", "aws-kms"] = "local"
    kms_socket: str = ""
    kms_token: str = ""
    kms_region: str = "eu-west-1"

    host: str = "127.0.0.1"
    port: int = 8443
    # The API speaks TLS only. Production names its certificate chain and key; left
    # empty, a local CA under `<data dir>/tls/` issues a localhost certificate.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None

    # Requests larger than this are refused with PAYLOAD_TOO_LARGE before they are parsed.
    max_graphql_body_bytes: int = 256 * 1024
    # GraphQL limits (OWASP GraphQL cheat sheet), each refused with BAD_USER_INPUT naming
    # it before anything runs: nesting depth, aliases, lexical tokens, directives, and an estimated
    # cost (fields, multiplied by `first` or a default of 10 under every list).
    graphql_max_depth: int = 12
    graphql_max_aliases: int = 15
    graphql_max_tokens: int = 2000
    graphql_max_cost: int = 5000
    # Directives per document (none may repeat at one location): checked before validation.
    graphql_max_directives: int = 10
    # Persisted documents (an option): a JSON manifest of "sha256:<hex>" -> document that
    # clients may name by `documentId`; with `graphql_persisted_only`, nothing else runs.
    graphql_persisted_documents: Path | None = None
    graphql_persisted_only: bool = False
    # An operation running longer than this is cancelled and rolled back: 503, INTERNAL.
    graphql_timeout_seconds: float = 30.0
    # Concurrent tenant migrations in `audora migrate`.
    migrate_concurrency: int = 4
    # Sessions: idle expiry (sliding), and how many one seat may hold at once; a plan
    # may set its own limit (e.g. {"AGENCY": 10}); a login beyond it ends the oldest.
    session_idle_hours: int = 24
    session_limit: int = 5
    plan_session_limits: dict[str, int] = {}
    # Proxies whose X-Forwarded-For is believed (addresses or CIDR networks); the
    # client address of anyone else's request is the connection's peer.
    trusted_proxies: list[str] = []

    # Passwords: argon2id cost (hashes made under older parameters are redone at login).
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4

    # Failed logins, counted per email and per client address over a sliding window:
    # after `login_free_failures` each further attempt waits twice as long as the last
    # (from `login_delay_seconds`, at most `login_max_delay_seconds`); at
    # `lockout_failures` the email is locked for `lockout_minutes`; an address with
    # `ip_failure_limit` failures is rate-limited until they age out of the window.
    login_window_minutes: int = 15
    login_free_failures: int = 3
    login_delay_seconds: int = 1
    login_max_delay_seconds: int = 60
    lockout_failures: int = 10
    lockout_minutes: int = 15
    ip_failure_limit: int = 100
    # R2's monitoring (platform/metrics/anomalies.py): a tenant is flagged when its last
    # hour is above max(factor x its mean hour over the trailing week, the floor):
    # requests, and bytes of customer data served. Credential stuffing: this many
    # distinct emails failing to log in within 15 minutes, across all accounts.
    unusual_activity_factor: float = 5.0
    unusual_access_floor_requests: int = 3000
    unusual_egress_floor_bytes: int = 256 * 1024 * 1024
    credential_stuffing_accounts: int = 50

    # MFA: the issuer shown in authenticator apps; WebAuthn's relying party. The RP ID
    # is the domain credentials are bound to; `webauthn_origins` are the exact origins
    # (scheme, host, port) whose pages may use them. Empty: the API's own origin on the
    # RP ID, `https://<rp id>:<port>`, which is what `make run` serves.
    totp_issuer: str = "Audora"
    webauthn_rp_id: str = "localhost"
    webauthn_rp_name: str = "Audora"
    webauthn_origins: list[str] = []

    # The staff console (break-glass): how long an enrollment link from `audora staff
    # create` stays valid, and how long a staff sign-in lasts at most.
    staff_enrollment_hours: int = Field(default=24, ge=1, le=72)
    staff_session_hours: int = Field(default=8, ge=1, le=12)

    # Invitations stay valid this long; new-device alerts can be switched off.
    invitation_hours: int = 72
    # A call still TRANSCRIBING this long after its upload has its job queued again
    # (Redis refused it, or arq dropped it after a killed worker's last try).
    transcription_requeue_minutes: int = 30
    # A running job renews its claim on itself for this long at a time: a worker killed
    # mid-job gives the job up to the next worker this soon (arq's own claim lasts the
    # job's whole timeout, an hour for transcription). See platform/jobs/lease.py.
    job_lease_seconds: float = 60.0
    # Transcription provider: embedded (faster-whisper in the worker, nothing leaves),
    # or a hosted one: openai (any OpenAI-compatible audio endpoint), deepgram,
    # assemblyai. The base URL (https only; empty: the provider's own), the API key and
    # the model (empty: the provider's default) apply to the hosted ones.
    transcriber: str = "embedded"
    transcriber_base_url: str = ""
    transcriber_api_key: str = ""
    transcriber_model: str = ""
    # A CA bundle (CA certificates only) to trust besides the system's for the hosted
    # provider: a private OpenAI-compatible deployment behind an internal CA.
    transcriber_ca_file: Path | None = None
    # A call still GENERATING this long after its round began has its job queued again;
    # a waiting or running job of the same round is never doubled.
    generation_requeue_minutes: int = 15
    # The TrueType font exported PDFs are set in; empty: DejaVu Sans where the system
    # has it, else the Latin-1 core font (see tenants/documents/export.py).
    pdf_font_file: str = ""
    new_device_alerts: bool = True
    # Recording uploads: the largest accepted, and how long an upload URL stays valid.
    upload_max_bytes: int = 2 * 1024**3
    upload_ticket_minutes: int = 15
    # The API's public base URL, for the upload URLs it hands out and the links in the
    # mail it sends; empty: the request's (in mail, where there is no request, this
    # server's own https://localhost:<port>).
    public_url: str = ""
    # /.well-known/security.txt (RFC 9116): where researchers report vulnerabilities,
    # the disclosure policy they are pointed to, and the languages reports may be in.
    # The file's Expires is computed from the clock: this many days ahead (< 1 year).
    security_contact: str = "mailto:security@audora.local"
    security_policy_url: str = ""
    security_languages: str = "en"
    security_txt_days: int = Field(default=180, ge=1, le=364)
    # reportVulnerability (unauthenticated): reports accepted per client address (IPv6:
    # per /64) in any hour; more are RATE_LIMITED.
    vulnerability_reports_per_hour: int = Field(default=5, ge=1)
    # Scheduled KEK rotation: a tenant's KEK gets a new version after this many days.
    kek_rotation_days: int = 90
    # The access log keeps each request this many months; the worker's daily job deletes
    # the rows that are older.
    access_log_months: int = Field(default=12, ge=1)
    # Audio is erased this many hours after its transcript is stored: 72 at most (the
    # promise), shorter if an operator wants.
    audio_retention_hours: int = Field(default=72, ge=1, le=72)
    # A data export's emailed download link stays valid this long (the export itself is
    # deleted 24 hours after it is built, whatever this says).
    export_link_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # Backups: the bucket they go to, apart from every tenant bucket (its name must not
    # start with `bucket_prefix`, or the orphan sweep would take it for a tenant's). In
    # production it lives in another region (`backup_s3_region`, and `backup_s3_endpoint`
    # if that region has an endpoint of its own); empty: the primary store's.
    backup_bucket: str = "audora-backups"
    backup_s3_endpoint: str = ""
    backup_s3_region: str = ""
    # Where pg_dump and psql are found: empty, the pgserver wheel's binaries (the same
    # PostgreSQL 16 as the embedded server), else the PATH's; or a folder named here.
    pg_bin_dir: str = ""

    @property
    def audio_retention(self) -> timedelta:
        return timedelta(hours=self.audio_retention_hours)

    # Outbound calls to destinations customers name (integrations, webhooks): a CA
    # bundle trusted besides the system store (CA certificates only; tests name their
    # own test CA), and hosts exempt from the SSRF guard's address check, so tests can
    # run stand-ins on loopback. Refused in production: there every host is checked.
    outbound_ca_file: Path | None = None
    outbound_allow_private_hosts: list[str] = []
    # Where pushes to Linear and Notion go unless an integration names its own endpoint.
    linear_api_url: str = "https://api.linear.app/graphql"
    notion_api_url: str = "https://api.notion.com"

    # The meeting-bot provider (Recall.ai-like): its API base URL (https only; empty:
    # no bots can be dispatched), the API key, the Standard Webhooks secret
    # ("whsec_<base64>"; empty: the webhook answers 404), and how long the provider
    # may keep media if our deletion never reaches it (its own timed retention).
    bot_provider_url: str = ""
    bot_provider_api_key: str = ""
    bot_webhook_secret: str = ""
    bot_provider_retention_hours: int = Field(default=24, ge=1)

    @model_validator(mode="after")
    def _refuse_inconsistent_settings(self) -> Settings:
        if self.env == "production" and self.outbound_allow_private_hosts:
            raise ValueError("AUDORA_OUTBOUND_ALLOW_PRIVATE_HOSTS is refused in production")
        if self.graphql_persisted_only and self.graphql_persisted_documents is None:
            raise ValueError(
                "AUDORA_GRAPHQL_PERSISTED_ONLY needs AUDORA_GRAPHQL_PERSISTED_DOCUMENTS"
            )
        if self.bot_provider_url and not self.bot_provider_url.startswith("https://"):
            raise ValueError("AUDORA_BOT_PROVIDER_URL must be an https:// URL")
        if self.otel_endpoint and not self.otel_endpoint.lower().startswith("https://"):
            raise ValueError("AUDORA_OTEL_ENDPOINT must be an https:// URL")
        for name in self.tenant_clusters:
            if name == "primary" or not _CLUSTER_NAME.match(name):
                raise ValueError(
                    f"AUDORA_TENANT_CLUSTERS: {name!r} is not a cluster name (lowercase "
                    "letters, digits and _, at most 32; 'primary' is the main database)"
                )
        return self

    # Document generation: "embedded" (the offline extractor, the default) or "openai"
    # (an OpenAI-compatible chat completions API at `generator_base_url`, https only,
    # with `generator_api_key` and `generator_model`; requests carry one call's
    # transcript and are sent with store=false).
    # The bearer token Prometheus sends to `GET /metrics`; empty: no such endpoint.
    metrics_token: SecretStr = SecretStr("")
    generator: Literal["embedded", "openai"] = "embedded"
    generator_base_url: str = "https://api.openai.com/v1"
    generator_api_key: SecretStr = SecretStr("")
    generator_model: str = "gpt-4o-mini"

    @property
    def backup_store_endpoint(self) -> str:
        return self.backup_s3_endpoint or self.s3_endpoint

    @property
    def backup_store_region(self) -> str:
        return self.backup_s3_region or self.s3_region

    @property
    def session_idle(self) -> timedelta:
        return timedelta(hours=self.session_idle_hours)

    def session_limit_for(self, plan: str) -> int:
        return self.plan_session_limits.get(plan, self.session_limit)

    @property
    def webauthn_expected_origins(self) -> list[str]:
        """The origins a WebAuthn ceremony may come from."""
        if self.webauthn_origins:
            return list(self.webauthn_origins)
        port = "" if self.port == 443 else f":{self.port}"
        return [f"https://{self.webauthn_rp_id}{port}"]

    @property
    def mail_base_url(self) -> str:
        """Where links in mail point: a job has no request to take its host from."""
        if self.public_url:
            return self.public_url.rstrip("/")
        # The local certificate is issued for "localhost", whatever address is bound.
        wildcard = ("0.0.0.0", "::")  # noqa: S104  (compared against, not bound to)
        local = self.host in ("127.0.0.1", "::1", *wildcard)
        return f"https://{'localhost' if local else self.host}:{self.port}"

    @property
    def is_production(self) -> bool:
        return self.env == "production"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, with the embedded stack's URLs filled in when it runs."""
    from audora.platform.stack.state import fill_from_stack

    return fill_from_stack(Settings())
