"""The retention schedule is one table in code, rendered into docs/retention.md; the
page is the code's, and the dev clock that lets a person watch it is refused in
production."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from audora.platform.clock import OffsetClock, parse_duration
from audora.schema.export import RETENTION_PATH
from audora.tenants.lifecycle.schedule import SCHEDULE, DataClass, render_markdown


def test_the_retention_page_in_the_docs_is_the_codes() -> None:
    assert RETENTION_PATH.read_text() == render_markdown(), "run `make schema`"


def test_every_class_of_data_has_one_row() -> None:
    assert sorted(row.data for row in SCHEDULE) == sorted(DataClass)


def test_durations_read_as_an_operator_writes_them() -> None:
    assert parse_duration("73h") == timedelta(hours=73)
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    assert parse_duration("90m") == timedelta(minutes=90)
    for bad in ("", "h", "73", "-5h", "3w"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)


def test_an_advanced_clock_is_seen_by_every_reader_and_reset_undoes_it(tmp_path: Path) -> None:
    writer, reader = OffsetClock(tmp_path / "offset"), OffsetClock(tmp_path / "offset")
    before = reader.now()
    writer.advance(timedelta(hours=73))
    assert reader.now() - before >= timedelta(hours=73)
    writer.reset()
    assert reader.now() - before < timedelta(hours=1)


def _dev_clock(data_dir: Path, env: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "audora.platform.cli.main", "dev", "clock", *args],
        env={**os.environ, "AUDORA_DATA_DIR": str(data_dir), "AUDORA_ENV": env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_audora_dev_clock_advance_moves_the_application_clock(tmp_path: Path) -> None:
    moved = _dev_clock(tmp_path, "dev", "advance", "73h")
    assert moved.returncode == 0, moved.stderr
    assert "offset 3 days, 1:00:00" in moved.stdout
    assert OffsetClock(tmp_path / "clock-offset").offset() == timedelta(hours=73)
    reset = _dev_clock(tmp_path, "dev", "reset")
    assert reset.returncode == 0
    assert OffsetClock(tmp_path / "clock-offset").offset() == timedelta()


def test_the_dev_clock_is_refused_in_production(tmp_path: Path) -> None:
    refused = _dev_clock(tmp_path, "production", "advance", "73h")
    assert refused.returncode == 2
    assert "refused" in refused.stderr
    assert not (tmp_path / "clock-offset").exists()
