"""The application clock. Everything that reads the time (sessions, expiries, schedules)
asks a `Clock`, so tests move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock tests set and advance by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class OffsetClock:
    """The system clock moved by an offset an operator sets (`audora dev clock advance`),
    shared by every process of one stack through a file in its data folder.

    Dev and test only: it lets a person watch a 72-hour deletion or a 30-day grace
    happen on a running stack. The file is read again whenever it changes (a `stat`
    per reading, cheaper than any round trip), so the API and the workers move together
    without restarting.
    """

    def __init__(self, offset_file: Path) -> None:
        self._file = offset_file
        self._seen: tuple[int, int] | None = None
        self._offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()

    def offset(self) -> timedelta:
        try:
            stat = self._file.stat()
        except FileNotFoundError:
            self._seen, self._offset = None, timedelta()
            return self._offset
        if self._seen != (stat.st_mtime_ns, stat.st_size):
            self._seen = (stat.st_mtime_ns, stat.st_size)
            self._offset = timedelta(seconds=float(self._file.read_text().strip() or 0))
        return self._offset

    def advance(self, delta: timedelta) -> timedelta:
        """Move every process's clock forward by `delta`; returns the new offset."""
        moved = self.offset() + delta
        partial = self._file.with_suffix(".partial")
        partial.write_text(f"{moved.total_seconds()}\n")
        partial.chmod(0o644)  # the API and workers may run as another user
        partial.replace(self._file)
        return moved

    def reset(self) -> None:
        self._file.unlink(missing_ok=True)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """`73h`, `30d`, `90m`, `45s`, or a sum of them (`1d12h`); never negative."""
    remaining, total = text.strip().lower(), 0.0
    if not remaining:
        raise ValueError("a duration such as 73h, 30d or 90m is needed")
    while remaining:
        digits = len(remaining) - len(remaining.lstrip("0123456789."))
        if digits == 0 or digits == len(remaining) or remaining[digits] not in _UNITS:
            raise ValueError(f"not a duration: {text!r} (say 73h, 30d, 90m or 45s)")
        total += float(remaining[:digits]) * _UNITS[remaining[digits]]
        remaining = remaining[digits + 1 :]
    return timedelta(seconds=total)
