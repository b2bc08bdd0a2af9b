"""A persistent outbox for pushes to platforms (back-channel logout tokens, Security Event
Tokens): stored in the database, retried with exponential backoff, surviving restarts, and
claimed per attempt so two app processes never send the same attempt twice.

Payloads are stored unsigned; each attempt renders (signs) them afresh so a retried token is
not already expired, while its `jti` stays the same: receivers deduplicate by `jti`, so a
delivery is never duplicated in effect.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from sqlalchemy import JSON, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import Base, Database, UTCDateTime, rowcount, utcnow

log = logging.getLogger("kluis.outbox")

MAX_BACKOFF = dt.timedelta(hours=1)
FIRST_BACKOFF_S = 2.0
LEASE = dt.timedelta(seconds=30)
TIMEOUT_S = 10.0

# kind -> (session, payload) -> (body bytes, content type)
Renderer = Callable[[Session, Mapping[str, Any]], tuple[bytes, str]]


class Delivery(Base):
    __tablename__ = "outbox_deliveries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    target_uri: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    correlation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


def enqueue(
    session: Session,
    *,
    kind: str,
    client_id: str,
    target_uri: str,
    payload: Mapping[str, Any],
    correlation_id: str | None = None,
) -> Delivery:
    now = utcnow()
    row = Delivery(
        id=uuid.uuid4().hex,
        kind=kind,
        client_id=client_id,
        target_uri=target_uri,
        payload=dict(payload),
        correlation_id=correlation_id,
        created_at=now,
        next_attempt_at=now,
        attempts=0,
    )
    session.add(row)
    session.flush()
    return row


def backoff(attempts: int) -> dt.timedelta:
    """Exponential with ±20 % jitter: 2 s, 4 s, 8 s … capped at one hour."""
    base = min(FIRST_BACKOFF_S * 2 ** max(attempts - 1, 0), MAX_BACKOFF.total_seconds())
    return dt.timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311 (jitter)


@dataclasses.dataclass
class AttemptResult:
    delivery_id: str
    delivered: bool
    status: int | None


class Outbox:
    def __init__(self, db: Database, renderers: Mapping[str, Renderer]) -> None:
        self.db = db
        self.renderers = dict(renderers)

    def _claim_due(self, limit: int) -> list[str]:
        now = utcnow()
        with self.db.transaction() as session:
            due = list(
                session.scalars(
                    select(Delivery.id)
                    .where(Delivery.delivered_at.is_(None), Delivery.next_attempt_at <= now)
                    .order_by(Delivery.next_attempt_at)
                    .limit(limit)
                )
            )
            claimed = []
            for delivery_id in due:
                # The lease: whoever moves next_attempt_at first owns this attempt.
                result = session.execute(
                    update(Delivery)
                    .where(
                        Delivery.id == delivery_id,
                        Delivery.delivered_at.is_(None),
                        Delivery.next_attempt_at <= now,
                    )
                    .values(next_attempt_at=now + LEASE)
                )
                if rowcount(result) == 1:
                    claimed.append(delivery_id)
            return claimed

    def _attempt(self, client: httpx.Client, delivery_id: str) -> AttemptResult:
        with self.db.transaction() as session:
            row = session.get(Delivery, delivery_id)
            if row is None or row.delivered_at is not None:
                return AttemptResult(delivery_id, True, None)
            body, content_type = self.renderers[row.kind](session, row.payload)
            target, attempts = row.target_uri, row.attempts
        status: int | None = None
        error: str | None = None
        try:
            response = client.post(
                target, content=body, headers={"Content-Type": content_type}, timeout=TIMEOUT_S
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        delivered = status is not None and 200 <= status < 300
        with self.db.transaction() as session:
            row = session.get(Delivery, delivery_id)
            if row is not None:
                row.attempts = attempts + 1
                row.last_status = status
                row.last_error = error or (None if delivered else f"HTTP {status}")
                if delivered:
                    row.delivered_at = utcnow()
                else:
                    row.next_attempt_at = utcnow() + backoff(attempts + 1)
        log.info(
            "outbox attempt",
            extra={"delivery": delivery_id, "status": status, "delivered": delivered},
        )
        return AttemptResult(delivery_id, delivered, status)

    def deliver_due(
        self, client: httpx.Client | None = None, limit: int = 50
    ) -> list[AttemptResult]:
        """Attempt every due delivery once. Safe to call from several processes at once."""
        due = self._claim_due(limit)
        if not due:
            # most rounds: no HTTP client (building one loads the CA bundle, ~10 ms of CPU)
            return []
        own = client is None
        http = client or httpx.Client()
        try:
            return [self._attempt(http, d) for d in due]
        finally:
            if own:
                http.close()
