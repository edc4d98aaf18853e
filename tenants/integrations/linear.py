"""Pushing a task list to Linear through its GraphQL API: `issueCreate` for items not
pushed before, `issueUpdate` for those that were (their issue ids are remembered), so a
second push updates the issues instead of making new ones.

Linear takes a personal API key as the bare `Authorization` header. GraphQL answers
errors with HTTP 200 or 400 and an `errors` list: an authentication error there is a
refusal like a 401; others are refusals too, named by their code only.
"""

from __future__ import annotations

from typing import Any

import httpx

from audora.tenants.integrations.delivery import (
    PushRejected,
    PushRetryable,
    Remember,
    judge_failure,
    judge_status,
    retry_after,
)
from audora.tenants.integrations.models import PushPlan, TaskItem

DESTINATION = "Linear"

CREATE = """
mutation AudoraIssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { id identifier } }
}
"""

UPDATE = """
mutation AudoraIssueUpdate($id: String!, $input: IssueUpdateInput!) {
  issueUpdate(id: $id, input: $input) { success issue { id identifier } }
}
"""

# Linear's priorities: 0 none, 1 urgent, 2 high, 3 medium, 4 low.
PRIORITIES = {"urgent": 1, "critical": 1, "high": 2, "medium": 3, "normal": 3, "low": 4}


def issue_input(item: TaskItem) -> dict[str, Any]:
    fields: dict[str, Any] = {"title": item.title, "description": item.description()}
    if item.priority is not None:
        fields["priority"] = PRIORITIES.get(item.priority.lower(), 0)
    if item.due_date is not None:
        fields["dueDate"] = item.due_date.isoformat()
    return fields


class LinearSender:
    def __init__(self, client: httpx.AsyncClient, endpoint: str, api_key: str, team_id: str):
        self.client = client
        self.endpoint = endpoint
        self.api_key = api_key
        self.team_id = team_id

    async def _call(self, query: str, variables: dict[str, Any], field: str) -> dict[str, Any]:
        try:
            response = await self.client.post(
                self.endpoint,
                json={"query": query, "variables": variables},
                headers={"authorization": self.api_key, "content-type": "application/json"},
            )
        except Exception as exc:
            raise judge_failure(DESTINATION, exc) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            codes = {
                str((e.get("extensions") or {}).get("code", "")).upper()
                for e in errors
                if isinstance(e, dict)
            }
            if response.status_code >= 500 or response.status_code == 429 or "RATELIMITED" in codes:
                raise PushRetryable(
                    f"{DESTINATION} is rate limiting or failing (HTTP {response.status_code})",
                    retry_after(response.headers.get("retry-after")),
                )
            if "AUTHENTICATION_ERROR" in codes or response.status_code in (401, 403):
                raise PushRejected(f"{DESTINATION} refused the credentials")
            named = ", ".join(sorted(c for c in codes if c.isidentifier())) or "unnamed"
            raise PushRejected(f"{DESTINATION} refused the request ({named} error)")
        failure = judge_status(DESTINATION, response.status_code, response.headers)
        if failure is not None:
            raise failure
        result = ((body or {}).get("data") or {}).get(field) or {}
        issue = result.get("issue") or {}
        if not result.get("success") or not isinstance(issue.get("id"), str):
            raise PushRejected(f"{DESTINATION} did not make the issue")
        return dict(issue)

    async def send(self, plan: PushPlan, links: dict[str, str], remember: Remember) -> int:
        created = 0
        for item in plan.items:
            fields = issue_input(item)
            existing = links.get(item.id)
            if existing is not None:
                await self._call(UPDATE, {"id": existing, "input": fields}, "issueUpdate")
                continue
            issue = await self._call(
                CREATE, {"input": {**fields, "teamId": self.team_id}}, "issueCreate"
            )
            await remember(item.id, issue["id"])
            created += 1
        return created
