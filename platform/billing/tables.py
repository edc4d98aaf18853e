"""Billing records in the platform schema: what was billed or changed in a
subscription, when, for which account, by the payment processor's own references.

The columns are the proof that no call content can be kept here (L4): amounts, dates,
a plan name and processor ids, each shape-checked when written; no free text at all.
There is no foreign key to the account: a purged account's records stay their full
seven years, naming it by id only.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, String, Table, func
from sqlalchemy.dialects.postgresql import UUID

from audora.platform.db.metadata import platform_metadata

billing_records = Table(
    "billing_records",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    # SUBSCRIPTION_LAPSED, SUBSCRIPTION_RENEWED, INVOICE, PAYMENT, REFUND.
    Column("kind", String(32), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("plan", String(16), nullable=True),
    Column("amount_cents", BigInteger, nullable=True),
    Column("currency", String(3), nullable=True),
    # The processor's customer id and its id for this record (an invoice, a payment):
    # never a card number, which the processor alone holds.
    Column("processor_customer_id", String(64), nullable=True),
    Column("processor_reference", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_billing_records_occurred_at", "occurred_at"),
)
