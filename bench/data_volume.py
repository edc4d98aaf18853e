"""Which file system a bench keeps its stack on, and whether it journals.

This machine's root file system is ext4 without a journal. ext4 then avoids reusing an
inode freed in the last minutes (`recently_deleted` in fs/ext4/ialloc.c, only without a
journal), and every file it creates scans past such inodes, looking each up in the
buffer cache. After 150,000 files were made and deleted in PostgreSQL's database folder
a sign-up's PostgreSQL CPU went from 48 to 108 ms, most of it kernel time
(docs/scaling.md): a sign-up creates 76 relation files. A production database volume
journals (ext4's default, XFS), so `BENCH_DATA_DIR` puts the scale bench's stack on one
such as a loop-mounted ext4 image, and every result records what it ran on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

MOUNTS = Path("/proc/mounts")
JOURNALS = Path("/proc/fs/jbd2")


def _mount_of(path: Path) -> tuple[str, str, str]:
    """(device, mount point, type) of the mount holding `path`: the longest mount point
    it lies under."""
    target = str(path.resolve())
    best = ("", "/", "")
    for line in MOUNTS.read_text().splitlines():
        device, point, kind = line.split()[:3]
        point = point.replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best[1]):
            best = (device, point, kind)
    return best


def describe(path: Path) -> dict[str, Any]:
    """The mount of `path`, and for ext4 whether it has a journal (jbd2 lists one for
    each journaled ext4 device: `loop0-8`, `vda-8`)."""
    device, point, kind = _mount_of(path)
    journal: bool | None = None
    if kind == "ext4":
        name = os.path.basename(device)
        journals = os.listdir(JOURNALS) if JOURNALS.exists() else []
        journal = any(entry.startswith(f"{name}-") for entry in journals)
    elif kind == "xfs":
        journal = True
    return {"path": str(path), "mount": point, "device": device, "type": kind, "journal": journal}
