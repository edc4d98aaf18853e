"""Every scale bench result says which file system its stack ran on, and whether that
file system journals: without a journal, ext4 makes file creation after deletions cost
a sign-up twice the PostgreSQL CPU (bench/data_volume.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))

import data_volume  # bench/ is not a package: found through the path above


def test_the_volume_of_a_folder_is_the_longest_mount_it_lies_under(tmp_path: Path) -> None:
    described = data_volume.describe(tmp_path / "stack")
    assert described["path"] == str(tmp_path / "stack")
    assert str(tmp_path.resolve()).startswith(described["mount"])
    assert described["type"]


@pytest.mark.parametrize(
    ("device", "journals", "journal"),
    [("/dev/loop0", ["loop0-8"], True), ("/dev/vda", ["loop0-8"], False)],
)
def test_an_ext4_volume_journals_only_if_jbd2_lists_its_device(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    device: str,
    journals: list[str],
    journal: bool,
) -> None:
    data = tmp_path / "data"
    mounts = tmp_path / "mounts"
    mounts.write_text(
        f"/dev/vda / ext4 rw,relatime 0 0\n{device} {data} ext4 rw,relatime 0 0\n"
        "tmpfs /dev/shm tmpfs rw 0 0\n"
    )
    jbd2 = tmp_path / "jbd2"
    jbd2.mkdir()
    for entry in journals:
        (jbd2 / entry).mkdir()
    monkeypatch.setattr(data_volume, "MOUNTS", mounts)
    monkeypatch.setattr(data_volume, "JOURNALS", jbd2)
    described = data_volume.describe(data / "bench-scale-1")
    assert (described["mount"], described["device"], described["journal"]) == (
        str(data),
        device,
        journal,
    )
