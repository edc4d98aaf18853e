from __future__ import annotations

import strawberry

from audora.tenants.calls.service import ConsentMethod


@strawberry.input(description="How the call's participants were told it is recorded.")
class ConsentInput:
    participants_notified: bool
    methods: list[ConsentMethod]
    jurisdiction: str | None = None


@strawberry.input
class CreateCallInput:
    client_profile_id: strawberry.ID
    title: str
    consent: ConsentInput


@strawberry.input(description="Send the meeting-bot provider's bot to the call's meeting.")
class DispatchMeetingBotInput:
    call_id: strawberry.ID
    meeting_url: str
