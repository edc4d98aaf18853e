"""How `sample_call.ogg` was made (run by hand, never at test or run time).

The sample call that `audora demo` uploads is synthetic: each turn of
`sample_call.json` spoken by espeak-ng in its speaker's voice, the turns joined with a
short pause, resampled to 16 kHz mono and encoded as Opus in Ogg at 24 kbit/s (about
100 KB for half a minute; faster-whisper decodes it with PyAV like any upload).

    apt-get install -y espeak-ng          # or brew install espeak-ng
    .venv/bin/python platform/demo/make_sample.py

It rewrites `sample_call.ogg` beside this file. espeak-ng's output is deterministic for
a given version, so the file only changes when the script does.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import wave
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "sample_call.json"
OUTPUT = HERE / "sample_call.ogg"
RATE = 16_000
PAUSE_SECONDS = 0.4
WORDS_PER_MINUTE = 165


def _speak(text: str, voice: str) -> np.ndarray:
    """One turn as 16-bit mono samples at espeak-ng's own rate (22050 Hz)."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("espeak-ng is not installed (apt-get install -y espeak-ng)")
    wav = subprocess.run(  # noqa: S603 (our own script's lines, as arguments, no shell)
        [espeak, "-v", voice, "-s", str(WORDS_PER_MINUTE), "--stdout", text],
        capture_output=True,
        check=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        if reader.getnchannels() != 1 or reader.getsampwidth() != 2:
            raise SystemExit("espeak-ng did not speak 16-bit mono")
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16)
    # Linear interpolation to 16 kHz is plenty for synthetic speech.
    positions = np.arange(0, len(samples), rate / RATE)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.int16)


def main() -> None:
    script = json.loads(SCRIPT.read_text())
    pause = np.zeros(int(PAUSE_SECONDS * RATE), dtype=np.int16)
    pieces: list[np.ndarray] = []
    for speaker, text in script["turns"]:
        pieces += [_speak(text, script["speakers"][speaker]), pause]
    audio = np.concatenate(pieces)

    with av.open(str(OUTPUT), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48_000)
        stream.layout = "mono"
        stream.bit_rate = 24_000
        frame = av.AudioFrame.from_ndarray(audio.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48_000)
        for resampled in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(resampled):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    seconds = len(audio) / RATE
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes, {seconds:.1f} s)")  # noqa: T201 (a tool's report)


if __name__ == "__main__":
    main()
