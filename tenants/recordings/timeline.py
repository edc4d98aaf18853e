"""A recording's speaker timeline (who spoke when, as a meeting bot reported it), sealed
at rest under the tenant's "transcripts" data key: it holds participants' names.

The same sealed JSON shape serves the bot's row (from the webhook until the audio is
stored) and the recording's row (from then on, for the transcription job)."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from typing import Any

from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.keys.service import KeyService
from audora.tenants.calls.content import TRANSCRIPTS
from audora.tenants.keys.data_keys import FieldSealer
from audora.tenants.keys.sealed_columns import sealed_object_id
from audora.tenants.transcription.provider import SpeakerTurn

MAX_TURNS = 20_000
MAX_SPEAKER = 200


def parse_timeline(raw: Any) -> tuple[SpeakerTurn, ...]:
    """Turns from untrusted JSON (`[{speaker, start_seconds, end_seconds}]`); a
    ValueError naming what is wrong."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_TURNS:
        raise ValueError(f"speaker_timeline must be a list of at most {MAX_TURNS} turns")
    turns = []
    for item in raw:
        if not isinstance(item, dict):
            raise ValueError("each turn must be an object")
        speaker, start, end = (
            item.get("speaker"),
            item.get("start_seconds"),
            item.get("end_seconds"),
        )
        if not isinstance(speaker, str) or not 0 < len(speaker.strip()) <= MAX_SPEAKER:
            raise ValueError(f"a turn's speaker must be 1 to {MAX_SPEAKER} characters")
        numbers = (start, end)
        if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
            raise ValueError("a turn's start_seconds and end_seconds must be numbers")
        first, last = float(start), float(end)  # type: ignore[arg-type]  # checked above
        if not (math.isfinite(first) and math.isfinite(last) and 0 <= first <= last):
            raise ValueError("a turn must start at or after 0 and end after it starts")
        turns.append(SpeakerTurn(speaker.strip(), first, last))
    return tuple(turns)


def _dumped(timeline: Sequence[SpeakerTurn]) -> str:
    return json.dumps(
        [
            {"speaker": t.speaker, "start_seconds": t.start_seconds, "end_seconds": t.end_seconds}
            for t in timeline
        ],
        ensure_ascii=False,
    )


async def seal_timeline(
    uow: TenantUnitOfWork,
    keys: KeyService,
    tenant_id: uuid.UUID,
    table: str,
    row_id: uuid.UUID,
    timeline: Sequence[SpeakerTurn],
) -> bytes | None:
    """The sealed value for `table.speaker_timeline` of `row_id`; None for no timeline."""
    if not timeline:
        return None
    sealer = FieldSealer(uow, keys, tenant_id, TRANSCRIPTS)
    return await sealer.seal(sealed_object_id(table, row_id, "speaker_timeline"), _dumped(timeline))


async def open_timeline(
    uow: TenantUnitOfWork,
    keys: KeyService,
    tenant_id: uuid.UUID,
    table: str,
    row_id: uuid.UUID,
    sealed: bytes | None,
) -> tuple[SpeakerTurn, ...]:
    if sealed is None:
        return ()
    sealer = FieldSealer(uow, keys, tenant_id, TRANSCRIPTS)
    raw = await sealer.open(sealed_object_id(table, row_id, "speaker_timeline"), sealed)
    return parse_timeline(json.loads(raw or "[]"))
