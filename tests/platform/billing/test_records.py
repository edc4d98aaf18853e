"""L4: billing records are kept seven years and hold no call content. Their columns
are amounts, dates, a plan and processor ids, each shape-checked: a card number or a
sentence is refused in any of them. A lapse and a renewal are billing records; a record
is deleted just after its seven years and not before."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from audora.platform.billing.records import (
    BillingKind,
    BillingRecord,
    delete_expired_billing_records,
    looks_like_card_number,
    record_billing,
)
from audora.platform.billing.tables import billing_records
from audora.platform.clock import FrozenClock
from audora.platform.errors import AppError
from audora.platform.runtime import Runtime
from audora.tenants.lifecycle.closure import lapse_account, renew_account
from audora.tenants.lifecycle.schedule import DataClass, period_of

from audora_testing import GraphQL, raw_id, sign_up

SECOND = timedelta(seconds=1)


def test_billing_records_have_no_column_that_could_hold_call_content() -> None:
    assert {c.name for c in billing_records.columns} == {
        "id",
        "account_id",
        "kind",
        "occurred_at",
        "plan",
        "amount_cents",
        "currency",
        "processor_customer_id",
        "processor_reference",
        "created_at",
    }


def test_card_numbers_are_recognised_with_or_without_spaces() -> None:
    assert looks_like_card_number("4242 4242 4242 4242")
    assert looks_like_card_number("pi_4242424242424242")
    assert not looks_like_card_number("in_1PqR2sT3uV4wX5yZ")
    assert not looks_like_card_number("4242 4242 4242 4241")  # fails the Luhn check


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("processor_reference", "4242 4242 4242 4242"),
        ("processor_customer_id", "4000056655665556"),
        ("processor_reference", "the client wants a Dentrix integration"),
        ("plan", "Studio plan for Brightside"),
    ],
)
async def test_a_card_number_or_free_text_is_refused_in_every_field(
    runtime: Runtime, field: str, value: str
) -> None:
    record = BillingRecord(
        uuid.uuid4(), BillingKind.PAYMENT, runtime.clock.now(), amount_cents=100, currency="USD"
    )
    async with runtime.platform_engine.begin() as conn:
        with pytest.raises(AppError) as refused:
            await record_billing(conn, BillingRecord(**{**record.__dict__, field: value}))
    assert refused.value.code == "BAD_USER_INPUT"


async def test_billing_records_are_kept_seven_years_and_deleted_just_after(
    runtime: Runtime, superuser: Engine, clock: FrozenClock
) -> None:
    account = uuid.uuid4()
    async with runtime.platform_engine.begin() as conn:
        await record_billing(
            conn,
            BillingRecord(
                account,
                BillingKind.INVOICE,
                clock.now(),
                plan="STUDIO",
                amount_cents=4900,
                currency="USD",
                processor_customer_id="cus_Q1w2E3r4",
                processor_reference="in_1PqR2sT3uV4wX5yZ",
            ),
        )

    def kept() -> int:
        with superuser.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM platform.billing_records WHERE account_id = :a"),
                    {"a": account},
                ).scalar_one()
            )

    seven_years = period_of(DataClass.BILLING)
    assert seven_years >= timedelta(days=7 * 365)
    await delete_expired_billing_records(
        runtime.platform_engine, clock.now() + seven_years - SECOND, seven_years
    )
    assert kept() == 1
    await delete_expired_billing_records(
        runtime.platform_engine, clock.now() + seven_years + SECOND, seven_years
    )
    assert kept() == 0


async def test_a_lapse_and_a_renewal_are_kept_as_billing_records(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Billing Studio")
    account = raw_id(owner["account"]["id"])
    await lapse_account(runtime, account, actor="system:billing", reason="card declined")
    await renew_account(runtime, account, actor="system:billing")
    with superuser.connect() as conn:
        kinds = conn.execute(
            text(
                "SELECT kind FROM platform.billing_records WHERE account_id = :a"
                " ORDER BY created_at, kind"
            ),
            {"a": account},
        ).scalars()
        assert sorted(kinds) == ["SUBSCRIPTION_LAPSED", "SUBSCRIPTION_RENEWED"]
