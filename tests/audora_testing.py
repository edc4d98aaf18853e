"""Helpers the tests share (importable because pytest puts tests/ on the path)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"


class GraphQL:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = response.json()
        return body


SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) { token user { id email role } account { id name status } }
}
"""


async def sign_up(gql: GraphQL, name: str = "Acme Studio") -> dict[str, Any]:
    email = f"owner-{uuid.uuid4().hex[:12]}@example.com"
    result = await gql(
        SIGN_UP,
        {
            "input": {
                "accountName": name,
                "email": email,
                "password": PASSWORD,
                "fullName": "Olive Owner",
            }
        },
    )
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["signUp"]
    payload["email"] = email
    return payload


def error_codes(result: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]
