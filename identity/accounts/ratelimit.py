"""Login throttling: at most N failed logins per account identifier and M per client IP within
a sliding window, counted in the database so that every app process sees the same numbers.

Both keys are stored only as keyed hashes (an IP address is personal data too). The account
key is derived from what was typed, not from the account row, so an unknown address is
throttled exactly like a known one and the 429 reveals nothing. A success clears the
account's failures but not the IP's.

Starting a login by QR (`POST /login/wallet`) is limited the same way per client IP: each start
creates a verification session, so one address may start at most `wallet_starts_per_ip` within
the window. Those starts are counted in the same table under scope `wallet_start` (not
failures, but the same sliding-window count).

The limits hold exactly under concurrency, across processes: an attempt is *reserved* (counted
as a failure) under a per-key lock before the password is checked, and the reservation is
given back (and committed at once) only when the attempt turns out not to be a wrong guess.
The caller commits the reservation before it checks anything (`log_in`), so the lock is held
for milliseconds, never across a password hash. Checking first and counting afterwards let 50
concurrent guesses through 11-19 at a limit of 5 on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import math
import uuid

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import lock_named, utcnow
from identity.accounts.errors import LoginThrottled
from identity.accounts.models import LoginFailure

log = logging.getLogger("kluis.accounts")
ACCOUNT = "account"
IP = "ip"
WALLET_START = "wallet_start"
ACTIVATION = "activation"
# which limit a scope's count is held against (for the log: never the key itself)
LIMIT_OF_SCOPE = {
    ACCOUNT: "per_account",
    IP: "per_ip",
    ACTIVATION: "per_ip",
    WALLET_START: "per_ip",
}


@dataclasses.dataclass(frozen=True)
class LoginLimits:
    per_account: int
    per_ip: int
    window: dt.timedelta
    wallet_starts_per_ip: int = 30


@dataclasses.dataclass(frozen=True)
class Reservation:
    """The failure rows counted for one attempt before its secret was checked."""

    rows: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Blocked:
    """An attempt a limit refused: seconds until one may be tried again, and which limits."""

    wait: int
    limits: tuple[str, ...]


class LoginLimiter:
    """`name` says in the log what is limited: "login" for passwords, or the typed codes a
    limiter of `attestations.config.attempt_limiter` guards ("letters", "vouching")."""

    def __init__(self, key: bytes, limits: LoginLimits, name: str = "login") -> None:
        self._key = key
        self.limits = limits
        self.name = name

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

    def reserve(self, session: Session, identifier: str, ip: str) -> Reservation:
        """Count a login attempt for `identifier` from `ip` as a failure, atomically with the
        check that the limits allow it; at a limit, count nothing and raise `LoginThrottled`.
        The caller commits at once, then checks the password."""
        return self._reserved(session, self._scopes(identifier, ip), self.name)

    def reserve_code_guess(self, session: Session, ip: str) -> Reservation:
        """The same for one typed activation code from `ip` (the per-IP limit: a guesser
        does not know which account a code belongs to)."""
        keys = [(ACTIVATION, self._hash(ACTIVATION, ip), self.limits.per_ip)]
        return self._reserved(session, keys, "activation")

    def _reserved(
        self, session: Session, keys: list[tuple[str, str, int]], what: str
    ) -> Reservation:
        counted = self._reserve(session, keys)
        if isinstance(counted, Blocked):
            limit = ",".join(counted.limits)
            log.warning(
                "%s attempts throttled (%s limit)",
                what,
                limit,
                extra={"what": what, "limit": limit, "retry_after": counted.wait},
            )
            raise LoginThrottled(counted.wait)
        return counted

    def release(self, session: Session, reservation: Reservation) -> None:
        """The attempt was not a wrong guess: it counts for nothing. COMMITTED at once, like
        the reservation, so that nothing the caller does afterwards (a form error that rolls
        its work back, a crash) can bring the counted failure back: a right password must
        never move anyone towards the limit. The session holds nothing else to commit here,
        since the reservation was committed just before the secret was checked."""
        session.execute(delete(LoginFailure).where(LoginFailure.id.in_(reservation.rows)))
        session.commit()

    def _reserve(self, session: Session, keys: list[tuple[str, str, int]]) -> Reservation | Blocked:
        now = utcnow()
        for scope, key_hash, _limit in sorted(keys):  # one order everywhere: no deadlock
            lock_named(session, f"kluis/login-limit/{scope}/{key_hash}")
        waits = {
            LIMIT_OF_SCOPE[scope]: w
            for scope, key_hash, limit in keys
            if (w := self._wait(session, scope, key_hash, limit, now)) is not None
        }
        if waits:
            return Blocked(max(waits.values()), tuple(sorted(waits)))
        self._purge(session, now)
        rows = [
            LoginFailure(id=uuid.uuid4().hex, scope=scope, key_hash=key_hash, created_at=now)
            for scope, key_hash, _limit in keys
        ]
        session.add_all(rows)
        session.flush()
        return Reservation(tuple(row.id for row in rows))

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
        key_hash = self._hash(WALLET_START, ip)
        counted = self._reserve(
            session, [(WALLET_START, key_hash, self.limits.wallet_starts_per_ip)]
        )
        return counted.wait if isinstance(counted, Blocked) else None
