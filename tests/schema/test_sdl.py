"""The SDL in schema/schema.graphql is what frontends build against: it must be the
schema the code serves. Regenerate with `make schema`."""

from __future__ import annotations

from audora.platform.auth.permissions import render_markdown
from audora.schema.export import PERMISSIONS_PATH, SDL_PATH, current_sdl


def test_the_committed_sdl_is_current() -> None:
    assert SDL_PATH.read_text() == current_sdl(), "run `make schema` and commit the result"


def test_the_permission_matrix_in_the_docs_is_the_codes() -> None:
    assert PERMISSIONS_PATH.read_text() == render_markdown(), "run `make schema`"


def test_protected_fields_carry_the_requires_directive_in_the_sdl() -> None:
    sdl = current_sdl()
    for field in (
        "budget: String @requires(permission: FINANCIALS_READ)",
        "transcript: Transcript @requires(permission: TRANSCRIPTS_READ)",
        "documents: [Document!] @requires(permission: DOCUMENTS_READ)",
        "members: [Member!]! @requires(permission: MEMBERS_READ)",
        "updateMember(input: UpdateMemberInput!): Member! @requires(permission: MEMBERS_MANAGE)",
        "removeMember(userId: ID!): Boolean! @requires(permission: MEMBERS_MANAGE)",
    ):
        assert field in sdl, field


def test_the_contract_operations_are_in_the_sdl() -> None:
    sdl = current_sdl()
    for operation in (
        "signUp(",
        "logIn(",
        "logOut",
        "me:",
        "createClientProfile(",
        "updateClientProfile(",
        "clientProfiles:",
        "clientProfile(",
        "inviteMember(",
        "acceptInvitation(",
        "members:",
        "updateMember(",
        "removeMember(",
    ):
        assert operation in sdl, operation
