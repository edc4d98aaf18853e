"""I4: every request is counted by method, route template and status class, with its
latency; GraphQL requests also by operation type. No label carries a path parameter, a
tenant, a user or an email, and /metrics still needs the scraper's token."""

from __future__ import annotations

import uuid

import httpx

from audora.platform.config import Settings

from audora_testing import GraphQL, sign_up
from metrics_scraping import Scraper


async def test_requests_are_counted_by_route_template_and_status_class(
    api: httpx.AsyncClient, scrape: Scraper
) -> None:
    before = await scrape()
    assert (await api.get("/healthz")).status_code == 200
    document = f"doc_{uuid.uuid4().hex}"
    assert (await api.get(f"/documents/{document}/export")).status_code == 401
    nowhere = f"/nowhere-{uuid.uuid4().hex}"
    assert (await api.get(nowhere)).status_code == 404
    after = await scrape()

    def grew(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    requests = "audora_http_requests_total"
    assert grew(requests, method="GET", route="/healthz", status="2xx") == 1
    assert grew(requests, method="GET", route="/documents/{id}/export", status="4xx") == 1
    assert grew(requests, method="GET", route="unmatched", status="4xx") == 1
    # The latency histogram has the request, in its count and its +Inf bucket.
    latency = "audora_http_request_duration_seconds"
    assert grew(f"{latency}_count", method="GET", route="/healthz") == 1
    assert grew(f"{latency}_bucket", method="GET", route="/healthz", le="+Inf") == 1
    assert after.value(f"{latency}_sum", method="GET", route="/healthz") > 0
    # Never the raw path: not the document's id, not the unknown path.
    assert document not in after.text
    assert nowhere not in after.text


async def test_graphql_requests_are_counted_by_operation_type_not_name(
    gql: GraphQL, scrape: Scraper
) -> None:
    owner = await sign_up(gql, "Counted Studio")
    before = await scrape()
    await gql("query ClientChosenName { me { user { id } } }", token=owner["token"])
    await gql("mutation { logOut }", token=owner["token"])
    await gql("this is not graphql")
    after = await scrape()

    def grew(kind: str, status: str) -> float:
        name = "audora_graphql_requests_total"
        return after.value(name, operation_type=kind, status=status) - before.value(
            name, operation_type=kind, status=status
        )

    assert grew("query", "2xx") == 1
    assert grew("mutation", "2xx") == 1
    assert grew("other", "2xx") + grew("other", "4xx") == 1  # it did not parse
    assert "ClientChosenName" not in after.text


async def test_metrics_name_no_tenant_user_or_email(
    api: httpx.AsyncClient, gql: GraphQL, scrape: Scraper, settings: Settings
) -> None:
    owner = await sign_up(gql, "Private Studio")
    await gql("{ me { user { id } account { id } } }", token=owner["token"])
    await gql(
        "mutation($input: LogInInput!) { logIn(input: $input) { token } }",
        {"input": {"email": owner["email"], "password": "not the password at all"}},
    )
    text = (await scrape()).text
    account_hex = owner["account"]["id"].removeprefix("acc_")
    user_hex = owner["user"]["id"].removeprefix("usr_")
    for secret in (owner["email"], account_hex, user_hex, str(uuid.UUID(hex=account_hex))):
        assert secret not in text
    # Still the scraper's only: a wrong token is refused.
    refused = await api.get("/metrics", headers={"authorization": "Bearer not-the-token"})
    assert refused.status_code == 401
    assert "audora_" not in refused.text
