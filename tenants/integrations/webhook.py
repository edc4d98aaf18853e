"""Pushing a task list to any https endpoint as a signed webhook, in the Standard
Webhooks style (standardwebhooks.com), as the meeting-bot provider signs the events it
sends us:

- `webhook-id`: the push's id, the same on every retry of that push, so a receiver
  that remembers ids handles a redelivery once;
- `webhook-timestamp`: seconds since the epoch when sent (receivers refuse stale ones);
- `webhook-signature`: `v1,` and base64 of HMAC-SHA256, keyed with the integration's
  secret, over `id.timestamp.body`.

The secret is made at connect time, shown once (`whsec_` and base64 of 32 random bytes)
and kept sealed. The body lists every item with a `deliveryId` that is the same for the
same item at the same version of the document, so a receiver can dedupe items too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any

import httpx

from audora.tenants.integrations.delivery import Remember, judge_failure, judge_status
from audora.tenants.integrations.models import PushPlan

DESTINATION = "the webhook endpoint"
SECRET_PREFIX = "whsec_"  # noqa: S105  (the format's prefix, not a secret)
EVENT = "task_list.pushed"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header's value for one message."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def delivery_id(plan: PushPlan, item_id: str) -> str:
    """The same for the same item of the same version of the same document."""
    seed = f"{plan.integration_id}/{plan.document_id}/{plan.document_version}/{item_id}"
    return "dlv_" + hashlib.sha256(seed.encode()).hexdigest()[:32]


def payload(plan: PushPlan, sent_at: datetime) -> dict[str, Any]:
    return {
        "type": EVENT,
        "timestamp": sent_at.isoformat(),
        "data": {
            "pushId": f"psh_{plan.push_id.hex}",
            "documentId": f"doc_{plan.document_id.hex}",
            "documentVersion": plan.document_version,
            "items": [
                {**item.to_json(), "deliveryId": delivery_id(plan, item.id)} for item in plan.items
            ],
        },
    }


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient, url: str, secret: str, now: datetime) -> None:
        self.client = client
        self.url = url
        self.secret = secret
        self.now = now

    async def send(self, plan: PushPlan, links: dict[str, str], remember: Remember) -> int:
        message_id = f"msg_{plan.push_id.hex}"
        timestamp = int(self.now.timestamp())
        body = json.dumps(payload(plan, self.now), ensure_ascii=False).encode()
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self.secret, message_id, timestamp, body),
        }
        try:
            response = await self.client.post(self.url, content=body, headers=headers)
        except Exception as exc:
            raise judge_failure(DESTINATION, exc) from None
        failure = judge_status(DESTINATION, response.status_code, response.headers)
        if failure is not None:
            raise failure
        # What was sent before is counted as an update, as for Linear and Notion.
        created = 0
        for item in plan.items:
            if item.id not in links:
                await remember(item.id, delivery_id(plan, item.id))
                created += 1
        return created
