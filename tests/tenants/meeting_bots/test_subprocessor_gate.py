"""No bot joins a meeting for a provider that is not yet an effective subprocessor
(PROMISES S5): the dispatch is refused with a clear error and nothing reaches it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from audora.platform.clock import FrozenClock
from audora.platform.subprocessors import registry

from audora_testing import GraphQL, create_call, create_profile, error_codes, sign_up
from bot_provider import ProviderState

DISPATCH = """
mutation($input: DispatchMeetingBotInput!) {
  dispatchMeetingBot(input: $input) { id bot { status } }
}
"""
MEETING = "https://us02web.zoom.us/j/81234567890?pwd=Zm9vYmFy"


async def test_a_bot_provider_not_yet_effective_is_never_sent_a_meeting(
    gql: GraphQL, clock: FrozenClock, provider: ProviderState, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await sign_up(gql, "Early Studio")
    profile = await create_profile(gql, owner["token"], "Client")
    call_id = await create_call(gql, owner["token"], profile["id"])
    effective = clock.now().date() + timedelta(days=14)
    monkeypatch.setattr(
        registry,
        "REGISTRY",
        tuple(
            dataclasses.replace(s, effective=effective) if s.key == registry.BOT_PROVIDER else s
            for s in registry.REGISTRY
        ),
    )
    sent = len(provider.created)

    result = await gql(
        DISPATCH, {"input": {"callId": call_id, "meetingUrl": MEETING}}, token=owner["token"]
    )

    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert f"effective from {effective.isoformat()}" in result["errors"][0]["message"]
    assert len(provider.created) == sent
