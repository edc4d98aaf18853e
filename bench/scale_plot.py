"""The scale bench's figures against the tenant count, as one PNG (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt


def plot(results: dict[str, Any], out: Path) -> None:
    measured = results["by_tenants"]
    counts = sorted(measured, key=int)
    n = [int(c) for c in counts]

    def series(*keys: str) -> list[float]:
        values = []
        for c in counts:
            value: Any = measured[c]
            for key in keys:
                value = value[key]
            values.append(float(value))
        return values

    figure, axes = plt.subplots(2, 2, figsize=(11, 8))
    panels = (
        (
            axes[0][0],
            "throughput (requests/s)",
            (("audora", "throughput_rps"), ("baseline", "throughput_rps")),
        ),
        (axes[0][1], "p50 latency (ms)", (("audora", "p50_ms"), ("baseline", "p50_ms"))),
        (axes[1][0], "p99 latency (ms)", (("audora", "p99_ms"), ("baseline", "p99_ms"))),
    )
    for axis, title, lines in panels:
        for app, key in lines:
            axis.plot(n, series(app, key), marker="o", label=app)
        axis.set_title(title)
    memory = axes[1][1]
    for key, label in (
        ("api_rss_mb", "Audora API"),
        ("worker_rss_mb", "Audora worker"),
        ("baseline_rss_mb", "baseline"),
    ):
        memory.plot(n, series(key), marker="o", label=label)
    memory.set_title("resident memory (MB)")
    for row in axes:
        for axis in row:
            axis.set_xscale("log")
            axis.set_xlabel("tenants")
            axis.set_ylim(bottom=0)
            axis.grid(True, alpha=0.3)
            axis.legend()
    figure.suptitle("Audora vs a bare Strawberry + SQLAlchemy baseline, one PostgreSQL")
    figure.tight_layout()
    figure.savefig(out, dpi=100)
    plt.close(figure)
