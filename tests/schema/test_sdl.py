"""The SDL in schema/schema.graphql is what frontends build against: it must be the
schema the code serves. Regenerate with `make schema`."""

from __future__ import annotations

from audora.schema.export import SDL_PATH, current_sdl


def test_the_committed_sdl_is_current() -> None:
    assert SDL_PATH.read_text() == current_sdl(), "run `make schema` and commit the result"


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
    ):
        assert operation in sdl, operation
