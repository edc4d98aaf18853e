"""Is this audio? The first bytes of every container a meeting recorder produces have a
signature; anything else is refused before a byte of it is stored."""

from __future__ import annotations

SNIFF_BYTES = 16

# Content types a recording may be sent as: audio of any kind, and the video containers
# meeting platforms export (their audio track is what gets transcribed).
VIDEO_CONTAINERS = frozenset({"video/mp4", "video/webm", "video/quicktime", "video/x-matroska"})


def acceptable_content_type(content_type: str) -> bool:
    return content_type.startswith("audio/") or content_type in VIDEO_CONTAINERS


def looks_like_audio(head: bytes) -> bool:
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"AVI "):
        return True
    if head[:4] in (b"OggS", b"fLaC", b"\x1aE\xdf\xa3", b"FORM", b"#!AM", b"caff"):
        return True  # Ogg/Opus, FLAC, WebM/Matroska, AIFF, AMR, Core Audio
    if head[:3] == b"ID3":
        return True  # MP3 with tags
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return True  # an MPEG audio or ADTS frame
    return head[4:8] == b"ftyp"  # MP4, M4A, MOV
