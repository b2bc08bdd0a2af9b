"""One background worker per deployment, however many app processes run (`kluis serve
--workers N`, or several hosts behind a load balancer): the worker of a process acts only while
it holds the lease in `worker_leases`, renewed every round. A process that stops (or dies) lets
the lease run out after `ttl`, and the next process to ask takes it over.

One holder matters for more than efficiency: audit checkpoints are signed by the worker, and
two signers racing could sign two checkpoints of one tree size; outbox deliveries and erasure
refreshes are already safe from any number of processes (row locks), but need no more than one.

The lease is a row, taken with a conditional UPDATE (or the first INSERT), so it works the same
on SQLite and PostgreSQL and survives a database failover (an advisory lock would die with its
connection and could be held by two processes across a failover).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import String, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import Base, UTCDateTime, rowcount, utcnow

BACKGROUND = "background"


class WorkerLease(Base):
    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


def new_holder() -> str:
    """This process's name as a lease holder (random: a pid repeats across hosts)."""
    return uuid.uuid4().hex


def hold_lease(
    session: Session,
    holder: str,
    ttl: dt.timedelta,
    name: str = BACKGROUND,
    now: dt.datetime | None = None,
) -> bool:
    """Take or renew the lease `name` for `ttl`; True when `holder` holds it now. The caller
    commits (before doing the work the lease guards)."""
    moment = now or utcnow()
    renewed = session.execute(
        update(WorkerLease)
        .where(
            WorkerLease.name == name,
            (WorkerLease.holder == holder) | (WorkerLease.expires_at <= moment),
        )
        .values(holder=holder, expires_at=moment + ttl)
        .execution_options(synchronize_session=False)
    )
    if rowcount(renewed) == 1:
        return True
    if session.get(WorkerLease, name) is not None:
        return False  # another live holder
    try:
        with session.begin_nested():
            session.add(WorkerLease(name=name, holder=holder, expires_at=moment + ttl))
    except IntegrityError:
        return False  # another process inserted it first
    return True
