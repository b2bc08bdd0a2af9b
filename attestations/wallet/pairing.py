"""Pairing the built-in wallet with a verification session (the guard Yivi calls a pairing
code). When a logged-in resident opens a platform's universal link, the session gets a short
random code that only the platform's own screen shows (read from the status API). The resident
types it on the phone; a QR code relayed by someone else (shoulder surfing, a forwarded link)
fails, because the victim never sees the attacker's screen. A few wrong codes cancel the
session.
"""

from __future__ import annotations

import hmac
import secrets

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from attestations.verifier.models import VerifierSession
from attestations.verifier.session import cancel_session, live_session, mark_scanned
from attestations.verifier.wakeup import notify_change
from attestations.wallet.errors import OpenedByAnotherAccount, PairingFailed, SessionEnded
from attestations.wallet.models import WalletPairing
from audit import record
from core import rowcount, utcnow

CODE_DIGITS = 4
MAX_ATTEMPTS = 3


def open_session(session: Session, session_id: str, account_id: str) -> WalletPairing:
    """The built-in wallet takes up the request (as fetching the request object would: the
    session becomes `scanned`) and the session gets its pairing code. Idempotent for the same
    resident; another resident is refused. The caller commits."""
    row = live_session(session, session_id)
    if row is None:
        raise SessionEnded()
    pairing = session.get(WalletPairing, session_id)
    if pairing is None:
        try:
            with session.begin_nested():
                session.add(
                    WalletPairing(
                        session_id=session_id,
                        account_id=account_id,
                        code=f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}",
                        failed_attempts=0,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            pass  # a concurrent open won; read what it stored
        pairing = session.get(WalletPairing, session_id, populate_existing=True)
        assert pairing is not None
        if pairing.account_id == account_id:
            mark_scanned(session, session_id)
            # a poll's session id is left out, so a steward cannot join it to the resident's
            # consent entry next to it (the vote stays anonymous in the log too)
            details = {"session": row.id} if row.poll_id is None else {"poll": True}
            record(session, "wallet.session_opened", "resident", details=details)
    if pairing.account_id != account_id:
        raise OpenedByAnotherAccount()
    return pairing


def pairing_for(session: Session, session_id: str, account_id: str) -> WalletPairing:
    """The resident's pairing of an open session; `SessionEnded` otherwise (the same answer
    whether the session never existed, ended, or belongs to someone else)."""
    pairing = session.get(WalletPairing, session_id)
    if pairing is None or pairing.account_id != account_id:
        raise SessionEnded()
    if live_session(session, session_id) is None:
        raise SessionEnded()
    return pairing


def check_pairing_code(session: Session, pairing: WalletPairing, code: str) -> None:
    """Count the attempt, then compare in constant time and pair (not after the attempts ran
    out, not twice). Counting first, in one conditional UPDATE that locks the row, makes the
    limit exact under concurrency: at most MAX_ATTEMPTS comparisons ever happen, and a right
    code gives its count back. At MAX_ATTEMPTS wrong codes the session is cancelled.
    Raises `PairingFailed` (the caller COMMITS, so the count holds)."""
    if pairing.paired_at is not None:
        return
    reserved = session.execute(
        update(WalletPairing)
        .where(
            WalletPairing.session_id == pairing.session_id,
            WalletPairing.paired_at.is_(None),
            WalletPairing.failed_attempts < MAX_ATTEMPTS,
        )
        .values(failed_attempts=WalletPairing.failed_attempts + 1)
    )
    session.refresh(pairing)
    if rowcount(reserved) == 1:
        typed = "".join(code.split())
        if hmac.compare_digest(typed.encode(), pairing.code.encode()):
            session.execute(
                update(WalletPairing)
                .where(WalletPairing.session_id == pairing.session_id)
                .values(paired_at=utcnow(), failed_attempts=WalletPairing.failed_attempts - 1)
            )
            session.refresh(pairing)
            notify_change(session, pairing.session_id)  # the widget stops showing the code
            return
    elif pairing.paired_at is not None:  # paired meanwhile, by a concurrent right code
        return
    left = MAX_ATTEMPTS - pairing.failed_attempts
    if left <= 0:
        row = session.get(VerifierSession, pairing.session_id)
        if row is not None:
            cancel_session(session, row, "wallet", "wallet_pairing_failed")
    raise PairingFailed(max(left, 0))
