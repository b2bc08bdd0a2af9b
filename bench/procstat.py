"""CPU and memory of a server process and its descendants, as /proc reports them (Linux)."""

from __future__ import annotations

import os
from pathlib import Path


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of `pid` and its descendants (the app processes of
    `--workers N`); the descendants still running count, the reaped ones do not (none exit
    during a run)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total + sum(cpu_seconds(child) for child in _children(pid))


def rss_bytes(pid: int) -> int:
    """RSS of `pid` and its descendants (the app processes of `--workers N`)."""
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total = int(line.split()[1]) * 1024
    return total + sum(rss_bytes(child) for child in _children(pid))
