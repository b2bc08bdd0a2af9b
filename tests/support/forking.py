"""A check run in a forked child of the test process (what `os.register_at_fork` handlers
leave behind there)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable


def in_forked_child(check: Callable[[], bool]) -> bool:
    """`check()` in a forked child of this process: what it returned there."""
    with warnings.catch_warnings():  # (Python 3.12 warns of forking a threaded process)
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        try:
            ok = check()
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0
