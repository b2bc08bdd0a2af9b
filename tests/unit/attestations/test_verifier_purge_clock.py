"""Session creation purges at most every interval per process, and again whenever the clock
went backwards (a restored backup, a test travelling in time)."""

from __future__ import annotations

import datetime as dt

from attestations.verifier.purge import PurgeClock

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_purge_clock_runs_once_per_interval_and_after_the_clock_went_back() -> None:
    clock = PurgeClock(dt.timedelta(seconds=30))
    assert clock.due(T0)
    assert not clock.due(T0 + dt.timedelta(seconds=29))
    assert clock.due(T0 + dt.timedelta(seconds=30))
    assert clock.due(T0)  # went backwards: purge again
    assert not clock.due(T0 + dt.timedelta(seconds=1))
