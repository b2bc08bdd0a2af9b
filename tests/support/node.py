"""Node.js harnesses: install an npm package's locked dependencies on demand, run its scripts.

``ensure_node_modules`` runs ``npm ci`` only when ``node_modules`` is missing or the lockfile
changed since the last install (a stamp in node_modules records the lockfile's hash). A file lock
keeps parallel pytest-xdist workers from installing into the same directory at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
NODE_RP_DIR = REPO / "tests" / "e2e" / "node"
NPM_CI = ("ci", "--no-audit", "--no-fund")
STAMP = ".kluis-lockfile.sha256"
INSTALL_TIMEOUT_S = 600


class NodeUnavailable(RuntimeError):
    """node or npm is not installed, or the install failed."""


def executable(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise NodeUnavailable(f"{name} not found on PATH (Node.js 20.19+ is needed)")
    return path


def _lock_digest(package_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((package_dir / name).read_bytes())
    return digest.hexdigest()


@contextlib.contextmanager
def _install_lock(package_dir: Path) -> Iterator[None]:
    name = hashlib.sha256(str(package_dir.resolve()).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"kluis-npm-ci-{name}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_node_modules(package_dir: Path, env: Mapping[str, str] | None = None) -> Path:
    """``npm ci --no-audit --no-fund`` in ``package_dir`` unless already installed from this
    lockfile, with ``env`` added to npm's environment. Returns the node_modules directory."""
    if not (package_dir / "package-lock.json").is_file():
        raise NodeUnavailable(f"{package_dir} has no package-lock.json")
    modules = package_dir / "node_modules"
    stamp = modules / STAMP
    digest = _lock_digest(package_dir)
    if stamp.is_file() and stamp.read_text() == digest:
        return modules
    with _install_lock(package_dir):
        if stamp.is_file() and stamp.read_text() == digest:  # another worker installed it
            return modules
        done = subprocess.run(
            [executable("npm"), *NPM_CI],
            cwd=package_dir,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
            env={**os.environ, **env} if env else None,
        )
        if done.returncode != 0:
            raise NodeUnavailable(f"npm ci failed in {package_dir}:\n{done.stdout}\n{done.stderr}")
        stamp.write_text(digest)
    return modules


def run_node(
    package_dir: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    ensure_node_modules(package_dir)
    return subprocess.run(
        [executable("node"), *args],
        cwd=package_dir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_node_rp(config: Mapping[str, Any], work_dir: Path, timeout: float = 120) -> dict[str, Any]:
    """Run tests/e2e/node/rp.mjs (openid-client) with ``config``; returns its JSON report with
    ``exit_code`` added (0 success, 1 flow failure) and ``stderr`` when it wrote any."""
    work_dir.mkdir(parents=True, exist_ok=True)
    config_path = work_dir / "node-rp-config.json"
    config_path.write_text(json.dumps(config))
    done = run_node(NODE_RP_DIR, "rp.mjs", str(config_path), timeout=timeout)
    lines = done.stdout.strip().splitlines()
    try:
        report: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as error:
        raise RuntimeError(
            f"rp.mjs printed no JSON (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        ) from error
    report["exit_code"] = done.returncode
    if done.stderr.strip():
        report["stderr"] = done.stderr
    return report
