"""The outbox's health per platform, for operators (`kluis clients outbox` and the console's
/console/outbox): how many deliveries wait for their first attempt, how many have failed at
least once and are still being retried, how many arrived, and the last failure a platform's
receiver gave. Only counts, times and HTTP statuses: payloads are never read."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters.outbox import Delivery


@dataclasses.dataclass(frozen=True)
class PlatformDeliveries:
    client_id: str
    pending: int  # not attempted yet
    failing: int  # attempted, not delivered, retried with backoff
    delivered: int
    oldest_waiting_at: dt.datetime | None  # the oldest delivery not yet delivered
    next_attempt_at: dt.datetime | None
    most_attempts: int
    last_error: str | None  # of the failing delivery with the most attempts

    @property
    def healthy(self) -> bool:
        return self.failing == 0


def outbox_health(session: Session) -> list[PlatformDeliveries]:
    """One line per platform that has deliveries, failing platforms first."""
    waiting = Delivery.delivered_at.is_(None)
    rows = session.execute(
        select(
            Delivery.client_id,
            func.count().filter(waiting, Delivery.attempts == 0),
            func.count().filter(waiting, Delivery.attempts > 0),
            func.count().filter(Delivery.delivered_at.is_not(None)),
            func.min(Delivery.created_at).filter(waiting),
            func.min(Delivery.next_attempt_at).filter(waiting),
            func.max(Delivery.attempts).filter(waiting),
        ).group_by(Delivery.client_id)
    ).all()
    lines = []
    for client_id, pending, failing, delivered, oldest, next_at, most in rows:
        error = None
        if failing:
            error = session.scalar(
                select(Delivery.last_error)
                .where(Delivery.client_id == client_id, waiting, Delivery.attempts > 0)
                .order_by(Delivery.attempts.desc())
                .limit(1)
            )
        lines.append(
            PlatformDeliveries(
                client_id, pending, failing, delivered, oldest, next_at, most or 0, error
            )
        )
    return sorted(lines, key=lambda line: (line.healthy, -line.failing, line.client_id))
