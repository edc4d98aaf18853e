"""Sign-up, log-in, `me` and log-out over GraphQL."""

from __future__ import annotations

from audora_testing import PASSWORD, GraphQL, error_codes, sign_up

ME = """
query { me { user { id email fullName role } account { id name status } sessions { id current } } }
"""


async def test_sign_up_returns_a_token_that_identifies_the_owner(gql: GraphQL) -> None:
    payload = await sign_up(gql, "Brightside Studio")
    assert payload["user"]["role"] == "OWNER"
    assert payload["account"]["status"] == "ACTIVE"
    me = await gql(ME, token=payload["token"])
    assert me["data"]["me"]["user"]["email"] == payload["email"]
    assert me["data"]["me"]["account"]["name"] == "Brightside Studio"
    assert [s["current"] for s in me["data"]["me"]["sessions"]] == [True]


async def test_log_in_and_log_out(gql: GraphQL) -> None:
    payload = await sign_up(gql)
    login = await gql(
        "mutation($i: LogInInput!) { logIn(input: $i) { token account { id } } }",
        {"i": {"email": payload["email"].upper(), "password": PASSWORD}},
    )
    token = login["data"]["logIn"]["token"]
    assert login["data"]["logIn"]["account"]["id"] == payload["account"]["id"]
    assert (await gql("mutation { logOut }", token=token))["data"] == {"logOut": True}
    assert error_codes(await gql(ME, token=token)) == ["UNAUTHENTICATED"]
    # The other session is untouched.
    assert "errors" not in await gql(ME, token=payload["token"])


async def test_wrong_password_and_unknown_email_get_the_same_answer(gql: GraphQL) -> None:
    payload = await sign_up(gql)
    query = "mutation($i: LogInInput!) { logIn(input: $i) { token } }"
    wrong = await gql(query, {"i": {"email": payload["email"], "password": "x" * 14}})
    unknown = await gql(query, {"i": {"email": "nobody@example.com", "password": "x" * 14}})
    assert error_codes(wrong) == error_codes(unknown) == ["UNAUTHENTICATED"]
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]


async def test_me_without_a_token_is_unauthenticated(gql: GraphQL) -> None:
    assert error_codes(await gql(ME)) == ["UNAUTHENTICATED"]
    assert error_codes(await gql(ME, token="aud_forged")) == ["UNAUTHENTICATED"]


async def test_passwords_shorter_than_12_characters_are_refused_at_sign_up(gql: GraphQL) -> None:
    query = "mutation($i: SignUpInput!) { signUp(input: $i) { token } }"
    base = {"accountName": "Short Pw", "email": "shortpw@example.com", "fullName": "S P"}
    refused = await gql(query, {"i": {**base, "password": "elevenchars"}})
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert refused["errors"][0]["extensions"]["field"] == "password"
    accepted = await gql(query, {"i": {**base, "password": "twelve chars"}})
    assert "errors" not in accepted
