"""Where the official test vectors are: `../shared/vectors/` beside the project (see its
README), read in place and never copied into the project.

A clone made elsewhere (e.g. `git clone . /tmp/x/fresh` to try the project as a new user)
has no `../shared` beside it; it then finds the vectors beside the checkout it was cloned
from (its `origin`, when that is a local path), or where `KLUIS_VECTORS_DIR` says.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BESIDE = REPO.parent / "shared" / "vectors"


def _beside_origin() -> Path | None:
    try:
        url = subprocess.run(
            ["git", "-C", str(REPO), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if not url or "://" in url or ":" in url.split("/", 1)[0]:
        return None  # a remote URL (https://, ssh, host:path), not a directory here
    origin = Path(url.removeprefix("file://"))
    if not origin.is_absolute():
        origin = (REPO / origin).resolve()
    return origin.parent / "shared" / "vectors"


def locate() -> Path:
    """The vectors directory; the default place when none is found (the tests then fail and
    name it)."""
    configured = os.environ.get("KLUIS_VECTORS_DIR")
    if configured:
        return Path(configured)
    if BESIDE.is_dir():
        return BESIDE
    origin = _beside_origin()
    return origin if origin is not None and origin.is_dir() else BESIDE


VECTORS = locate()
