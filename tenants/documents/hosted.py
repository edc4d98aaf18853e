"""A hosted document generator: an OpenAI-compatible chat completions API, held to the
documents' JSON schema (strict structured output).

What is sent, and what is not (P2, P3, P4):
- one request per `generate`, carrying this call's transcript segments and its own
  labels (title, client name, date), nothing else: no earlier call, no other account,
  no conversation history; a fresh API client (and connection pool) per request, so no
  state outlives the call;
- `store=False`: the provider keeps no copy for its dashboards, evaluations or
  distillation; `temperature=0` for the most repeatable answer;
- over `platform/http/outbound.py`'s client only: https, certificates verified (an
  operator-named CA bundle besides the system store), no redirects.

What comes back is checked against the same dataclasses the embedded generator fills
(`jsonmodel.load`); JSON that is not valid, or does not fit, raises
`InvalidGeneratorOutput`, which the pipeline's job retries. Empty sections get their
open questions (`complete`), sums of money outside the budget are masked, and the SOW's
change control is the agency's standard terms, whatever the model wrote.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from openai import AsyncOpenAI

from audora.platform.http.outbound import InsecureDestination, outbound_client
from audora.tenants.calls.content import DocumentKind, Transcript
from audora.tenants.documents.complete import complete
from audora.tenants.documents.embedded import document, ordered
from audora.tenants.documents.generator import ALL_KINDS, CallContext, GeneratedDocument
from audora.tenants.documents.jsonmodel import InvalidDocument, load, schema_of
from audora.tenants.documents.models import Budget, ClientBrief, Document, Prd, Sow, TaskList
from audora.tenants.documents.phrases import mask_money

MODELS: dict[DocumentKind, type[Document]] = {
    DocumentKind.PRD: Prd,
    DocumentKind.TASK_LIST: TaskList,
    DocumentKind.SOW: Sow,
    DocumentKind.CLIENT_BRIEF: ClientBrief,
}
INSTRUCTIONS = """\
You write an agency's project documents from ONE client call: its transcript segments
(start seconds, speaker when known, text) and the call's title, client and date.
Use only what the transcript says. When the call did not say something, leave that
field empty (an empty list, or null): never invent content, names, dates or figures.
- Requirements: priority "must" (must / need / has to), "should" (should / want),
  "could" (nice to have / could); acceptance criteria only as the call states them.
- Sums of money go in the "budget" object only, never in any other field.
- Dates: "said" is the words as said ("by Friday"); "date" is the ISO date they resolve
  to from the call's date, or null.
- Task owners: the person who took the task on, by the name used on the call, or null.
- source_seconds: the start of the segment the item comes from.
- Leave "change_control" and every "open_questions" list empty: they are filled in later.
"""


class InvalidGeneratorOutput(Exception):
    """The provider's answer is not the documents asked for; generating again may work."""


class OpenAIChatGenerator:
    """`DocumentGenerator` on an OpenAI-compatible chat completions API."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        extra_ca: Path | None = None,
        timeout: float = 120.0,
    ) -> None:
        if not base_url.lower().startswith("https://"):
            raise InsecureDestination("the document generator's base URL must be https")
        self._base_url = base_url
        self._api_key = api_key
        self._model = model
        self._extra_ca = extra_ca
        self._timeout = timeout

    async def generate(
        self,
        transcript: Transcript,
        context: CallContext,
        kinds: Collection[DocumentKind] = ALL_KINDS,
    ) -> Sequence[GeneratedDocument]:
        chosen = ordered(kinds)
        if not chosen:
            return []
        answer = await self._ask(transcript, context, chosen)
        out: list[GeneratedDocument] = []
        for kind in chosen:
            try:
                model = load(MODELS[kind], answer.get(kind.value.lower()))
            except InvalidDocument as exc:
                raise InvalidGeneratorOutput(f"the {kind.value} does not fit: {exc}") from exc
            out.append(document(kind, complete(_cleaned(model)), context))
        return out

    async def _ask(
        self, transcript: Transcript, context: CallContext, kinds: list[DocumentKind]
    ) -> dict[str, Any]:
        schema = {
            "type": "object",
            "properties": {kind.value.lower(): schema_of(MODELS[kind]) for kind in kinds},
            "required": [kind.value.lower() for kind in kinds],
            "additionalProperties": False,
        }
        call = {
            "call": {
                "title": context.call_title,
                "client": context.client_name,
                "date": context.call_date.isoformat(),
            },
            "segments": [
                {"start_seconds": s.start_seconds, "speaker": s.speaker, "text": s.text}
                for s in transcript.segments
            ],
        }
        async with outbound_client(extra_ca=self._extra_ca, timeout=self._timeout) as http:
            # Retries are the job's (arq, with backoff), not the SDK's: one request per try.
            client = AsyncOpenAI(
                api_key=self._api_key, base_url=self._base_url, http_client=http, max_retries=0
            )
            response = await client.chat.completions.create(
                model=self._model,
                messages=[
                    {"role": "system", "content": INSTRUCTIONS},
                    {"role": "user", "content": json.dumps(call, ensure_ascii=False)},
                ],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "call_documents", "strict": True, "schema": schema},
                },
                temperature=0,
                store=False,
            )
        if not response.choices:
            raise InvalidGeneratorOutput("the provider answered with no choices")
        message = response.choices[0].message
        if message.refusal or not message.content:
            raise InvalidGeneratorOutput("the provider answered with no documents")
        try:
            answer = json.loads(message.content)
        except json.JSONDecodeError as exc:
            raise InvalidGeneratorOutput(f"the provider's answer is not JSON: {exc}") from exc
        if not isinstance(answer, dict):
            raise InvalidGeneratorOutput("the provider's answer is not a JSON object")
        return answer


def _cleaned(value: Any) -> Any:
    """A returned model with money masked outside its budget and unusable dates dropped."""
    if isinstance(value, Budget):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes: dict[str, Any] = {}
        for field in dataclasses.fields(value):
            current = getattr(value, field.name)
            if field.name in ("date", "due_date") and isinstance(current, str):
                changes[field.name] = current if _is_iso(current) else None
            else:
                changes[field.name] = _cleaned(current)
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(_cleaned(item) for item in value)
    if isinstance(value, str):
        return mask_money(value)
    return value


def _is_iso(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
