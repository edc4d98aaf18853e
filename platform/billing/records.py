"""Writing billing records, and deleting them once their seven years are over.

Every text value is checked for its shape before it is stored: a processor id is
letters, digits, `_` and `-` only (so no sentence, no transcript, no email fits), and
anything holding a run of 13 to 19 digits that passes the Luhn check is refused as a
card number, whatever field it arrives in.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audora.platform.billing.tables import billing_records
from audora.platform.errors import bad_input

PROCESSOR_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
CURRENCY = re.compile(r"[A-Z]{3}")
PLAN = re.compile(r"[A-Z_]{1,16}")
DIGIT_RUN = re.compile(r"\d[\d -]{11,}\d")


class BillingKind(StrEnum):
    SUBSCRIPTION_LAPSED = "SUBSCRIPTION_LAPSED"
    SUBSCRIPTION_RENEWED = "SUBSCRIPTION_RENEWED"
    INVOICE = "INVOICE"
    PAYMENT = "PAYMENT"
    REFUND = "REFUND"


@dataclass(frozen=True)
class BillingRecord:
    account_id: uuid.UUID
    kind: BillingKind
    occurred_at: datetime
    plan: str | None = None
    amount_cents: int | None = None
    currency: str | None = None
    processor_customer_id: str | None = None
    processor_reference: str | None = None


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def looks_like_card_number(value: str) -> bool:
    for run in DIGIT_RUN.findall(value):
        digits = re.sub(r"\D", "", run)
        if 13 <= len(digits) <= 19 and _luhn(digits):
            return True
    return False


def _checked(record: BillingRecord) -> BillingRecord:
    texts = {
        "plan": (record.plan, PLAN),
        "currency": (record.currency, CURRENCY),
        "processorCustomerId": (record.processor_customer_id, PROCESSOR_ID),
        "processorReference": (record.processor_reference, PROCESSOR_ID),
    }
    for field, (value, shape) in texts.items():
        if value is None:
            continue
        if looks_like_card_number(value):
            raise bad_input("card numbers are never stored: send the processor's id", field=field)
        if not shape.fullmatch(value):
            raise bad_input(f"{field} is not a {field} the processor would send", field=field)
    if record.amount_cents is not None and (record.currency is None):
        raise bad_input("an amount needs its currency", field="currency")
    return record


async def record_billing(conn: AsyncConnection, record: BillingRecord) -> uuid.UUID:
    """Store `record` in the caller's transaction, after checking every value's shape."""
    checked = _checked(record)
    record_id = uuid.uuid4()
    await conn.execute(
        insert(billing_records).values(
            id=record_id,
            account_id=checked.account_id,
            kind=checked.kind.value,
            occurred_at=checked.occurred_at,
            plan=checked.plan,
            amount_cents=checked.amount_cents,
            currency=checked.currency,
            processor_customer_id=checked.processor_customer_id,
            processor_reference=checked.processor_reference,
        )
    )
    return record_id


async def delete_expired_billing_records(
    engine: AsyncEngine, now: datetime, kept: timedelta
) -> int:
    """Delete records older than `kept` (seven years: the schedule's BILLING row)."""
    async with engine.begin() as conn:
        deleted = await conn.execute(
            delete(billing_records).where(billing_records.c.occurred_at < now - kept)
        )
    return int(deleted.rowcount)
