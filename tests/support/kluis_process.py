"""Run the `kluis` command in a process of its own, without paying its start-up each time.

Starting the installed `kluis` script costs about two seconds of CPU, nearly all of it
importing Python modules; the end-to-end tests run it some hundred and fifty times. Here a
fork server (multiprocessing's "forkserver" start method) imports the command once per test
process; every run is then a fresh child forked from it: its own process, environment,
working directory, file descriptors and exit status, the same `main()` the script calls,
and nothing shared with the test process or with other runs.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

KLUIS = str(Path(sys.executable).parent / "kluis")
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["service.cli"])


def _child(args: list[str], env: dict[str, str], cwd: str, out: str, err: str) -> None:
    """In the forked process: what the `kluis` script does, with stdout and stderr (file
    descriptors 1 and 2, so child processes and log handlers write there too) in files."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, out), (2, err)):
        target = os.open(path, os.O_WRONLY | os.O_TRUNC)
        os.dup2(target, fd)
        os.close(target)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
    sys.argv = [KLUIS, *args]
    code: object = 0
    try:
        from service.cli import main

        main()
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed, status 1
        print(code, file=sys.stderr, flush=True)
        code = 1
    os._exit(code)


def run_kluis(
    args: list[str] | tuple[str, ...],
    env: dict[str, str],
    *,
    check: bool = True,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`kluis ARGS` with `env` as its whole environment, as `subprocess.run` would answer."""
    with tempfile.TemporaryDirectory(prefix="kluis-run-") as tmp:
        out, err = os.path.join(tmp, "stdout"), os.path.join(tmp, "stderr")
        for path in (out, err):
            Path(path).touch()
        process = _CONTEXT.Process(target=_child, args=(list(args), env, os.getcwd(), out, err))
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired([KLUIS, *args], timeout)
        result = subprocess.CompletedProcess(
            [KLUIS, *args],
            process.exitcode,
            Path(out).read_text(errors="replace"),
            Path(err).read_text(errors="replace"),
        )
    if check:
        result.check_returncode()
    return result
