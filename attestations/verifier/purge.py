"""The verifier's housekeeping: results erased when they expire, sessions deleted a day after
they ended, with new sessions (at most every `PURGE_INTERVAL` per process) and from
`kluis verifier purge`."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from attestations.verifier.models import VerifierSession
from core import rowcount, utcnow

SESSION_RETENTION = dt.timedelta(days=1)  # ended sessions stay this long (metadata only)
PURGE_INTERVAL = dt.timedelta(seconds=30)  # session creation purges at most this often


class PurgeClock:
    """When this process last purged. Session creation purges at most every `interval`, so
    the purge's scan (of a table growing with the pending sessions) is not paid per session;
    a clock that went backwards (a restored backup, tests travelling in time) purges again."""

    def __init__(self, interval: dt.timedelta = PURGE_INTERVAL) -> None:
        self.interval = interval
        self._last: dt.datetime | None = None
        self._lock = threading.Lock()

    def due(self, now: dt.datetime) -> bool:
        """True (and the clock set) if a purge should run now."""
        with self._lock:
            last = self._last
            if last is not None and last <= now < last + self.interval:
                return False
            self._last = now
            return True


_PURGE_CLOCK = PurgeClock()


def purge_when_due(session: Session, now: dt.datetime) -> None:
    """`purge_sessions` if this process has not purged in the last `PURGE_INTERVAL`."""
    if _PURGE_CLOCK.due(now):
        purge_sessions(session, now)


def purge_sessions(session: Session, now: dt.datetime | None = None) -> int:
    """Erase results past their lifetime and delete sessions that ended long ago. Runs with
    new sessions (at most every `PURGE_INTERVAL` per process, `purge_when_due`) and from
    `kluis verifier purge`, so no result outlives its `result_expires_at` by much more than
    that even if the platform never reads it (a platform reading it late finds it erased:
    `status_body`). Returns the number of sessions deleted."""
    moment = now or utcnow()
    session.execute(
        update(VerifierSession)
        .where(VerifierSession.result.is_not(None), VerifierSession.result_expires_at <= moment)
        .values(result=None, result_expires_at=None)
    )
    deleted = session.execute(
        delete(VerifierSession).where(VerifierSession.expires_at < moment - SESSION_RETENTION)
    )
    return rowcount(deleted)
