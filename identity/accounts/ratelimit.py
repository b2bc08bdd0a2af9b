"""Login throttling: at most N failed logins per account identifier and M per client IP within
a sliding window, counted in the database so that every app process sees the same numbers.

Both keys are stored only as keyed hashes (an IP address is personal data too). The account
key is derived from what was typed, not from the account row, so an unknown address is
throttled exactly like a known one and the 429 reveals nothing. A success clears the
account's failures but not the IP's.

Starting a login by QR (`POST /login/wallet`) is limited the same way per client IP: each start
creates a verification session, so one address may start at most `wallet_starts_per_ip` within
the window. Those starts are counted in the same table under scope `wallet_start` (not
failures, but the same sliding-window count). Two concurrent starts may both pass the check
at the limit; the bound is approximate by one or two, which is enough against flooding.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import math
import uuid

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.db import utcnow
from identity.accounts.models import LoginFailure

ACCOUNT = "account"
IP = "ip"
WALLET_START = "wallet_start"


@dataclasses.dataclass(frozen=True)
class LoginLimits:
    per_account: int
    per_ip: int
    window: dt.timedelta
    wallet_starts_per_ip: int = 30


class LoginLimiter:
    def __init__(self, key: bytes, limits: LoginLimits) -> None:
        self._key = key
        self.limits = limits

    def _hash(self, scope: str, value: str) -> str:
        return hmac.new(self._key, f"{scope}\x00{value}".encode(), hashlib.sha256).hexdigest()

    def _scopes(self, identifier: str, ip: str) -> list[tuple[str, str, int]]:
        return [
            (ACCOUNT, self._hash(ACCOUNT, identifier), self.limits.per_account),
            (IP, self._hash(IP, ip), self.limits.per_ip),
        ]

    def retry_after(self, session: Session, identifier: str, ip: str) -> int | None:
        """Seconds until a login for `identifier` from `ip` may be tried again, or None if it
        may be tried now."""
        now = utcnow()
        waits = [
            self._wait(session, scope, key_hash, limit, now)
            for scope, key_hash, limit in self._scopes(identifier, ip)
        ]
        blocked = [w for w in waits if w is not None]
        return max(blocked) if blocked else None

    def _wait(
        self, session: Session, scope: str, key_hash: str, limit: int, now: dt.datetime
    ) -> int | None:
        # The limit-th most recent failure in the window: once it ages out, fewer than
        # `limit` remain and the key may try again.
        recent = session.scalars(
            select(LoginFailure.created_at)
            .where(
                LoginFailure.scope == scope,
                LoginFailure.key_hash == key_hash,
                LoginFailure.created_at > now - self.limits.window,
            )
            .order_by(LoginFailure.created_at.desc())
            .limit(limit)
        ).all()
        if len(recent) < limit:
            return None
        free_at = recent[-1] + self.limits.window
        return max(1, math.ceil((free_at - now).total_seconds()))

    def record_failure(self, session: Session, identifier: str, ip: str) -> None:
        now = utcnow()
        self._purge(session, now)
        for scope, key_hash, _limit in self._scopes(identifier, ip):
            session.add(
                LoginFailure(id=uuid.uuid4().hex, scope=scope, key_hash=key_hash, created_at=now)
            )
        session.flush()

    def clear_account(self, session: Session, identifier: str) -> None:
        session.execute(
            delete(LoginFailure).where(
                LoginFailure.scope == ACCOUNT,
                LoginFailure.key_hash == self._hash(ACCOUNT, identifier),
            )
        )

    def _purge(self, session: Session, now: dt.datetime) -> None:
        session.execute(
            delete(LoginFailure).where(LoginFailure.created_at <= now - self.limits.window)
        )

    def start_wallet_login(self, session: Session, ip: str) -> int | None:
        """Count a start of a login by QR from `ip`; or, at the limit, count nothing and
        return the seconds until one may start again. The caller commits."""
        now = utcnow()
        key_hash = self._hash(WALLET_START, ip)
        wait = self._wait(session, WALLET_START, key_hash, self.limits.wallet_starts_per_ip, now)
        if wait is not None:
            return wait
        self._purge(session, now)
        session.add(
            LoginFailure(id=uuid.uuid4().hex, scope=WALLET_START, key_hash=key_hash, created_at=now)
        )
        session.flush()
        return None
