"""A call's progress as frontends show it: its stage and a rough percentage.

The stages take very different times (transcription is most of the wait), so the
figures are where each stage starts on a bar, not a measurement: a frontend polls
`Call.progress` every few seconds while the call is TRANSCRIBING or GENERATING.
"""

from __future__ import annotations

from audora.tenants.calls.service import CallStatus

PERCENT = {
    CallStatus.AWAITING_RECORDING: 0,
    CallStatus.TRANSCRIBING: 10,
    CallStatus.GENERATING: 70,
    CallStatus.READY: 100,
}


def progress_of(status: CallStatus, *, transcribed: bool) -> tuple[CallStatus, int]:
    """(stage, percent). A FAILED call keeps the figure of the stage it failed at: that
    of GENERATING once it has a transcript, else that of TRANSCRIBING."""
    if status is CallStatus.FAILED:
        stage = CallStatus.GENERATING if transcribed else CallStatus.TRANSCRIBING
        return status, PERCENT[stage]
    return status, PERCENT[status]
