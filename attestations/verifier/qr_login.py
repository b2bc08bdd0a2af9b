"""Login by QR: the desktop browser shows a cross-device OpenID4VP request, the resident's
wallet (on a phone) presents a Kluis credential, and the desktop browser is logged in to the
account that credential was issued to.

Binding to the browser: starting a login gives the browser a random 256-bit secret in a cookie
scoped to this login's path; the database keeps only its SHA-256 hash. Status, events and
completion all need that cookie, so someone who sees the QR code (over a shoulder, on a
shared screen) can scan it but cannot take the login over from another browser. (It does not
stop a relay: a site that shows Kluis's QR code from its own browser gets the login if the
resident scans and approves it with a wallet app. The page says to scan only a code asked for
on Kluis itself. With the built-in Kluis wallet the phone also asks for the pairing code this
page shows: a QR code forwarded or shown elsewhere then fails, unless the relaying site also
relays the code in real time.)

The checks of a completion, in order:
1. binding: the login exists and the browser's secret matches (constant time) → else
   `WalletLoginGone`, the same answer as for an unknown, expired or used login;
2. answered: the verification session is `done` → else `WalletLoginPending` (or
   `WalletLoginGone` when it expired or was cancelled);
3. whose: the result (signed by Kluis, for Kluis) names the presented credential's status
   list entry; it maps to exactly one account through `issued_credentials`, and the
   credential is neither revoked nor expired nor erased, and the account is active → else
   `WalletLoginRefused`;
4. once: `consumed_at` is set in one conditional UPDATE; a second completion (replay,
   concurrent request) loses → `WalletLoginGone`;
5. session: the browser's previous session ends and a new one starts with
   `acr=urn:kluis:acr:attested`, `amr=["pop"]`; the login is audited (no personal data).
"""

from __future__ import annotations

import dataclasses
import hmac
from typing import Any

import jwt
from sqlalchemy import update
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.errors import StatusUnavailable
from attestations.holders import account_of_credential
from attestations.statuslist import StatusReference
from attestations.verifier.config import VerifierConfig
from attestations.verifier.login import create_login_session
from attestations.verifier.models import VerifierSession, WalletLogin
from attestations.verifier.session import clear_result, effective_status
from attestations.wallet.models import WalletPairing
from audit import record
from core import new_token, rowcount, token_hash, utcnow
from identity import (
    ACR_ATTESTED,
    AMR_WALLET,
    Account,
    Accounts,
    AccountStatus,
    BrowserSession,
    WalletLoginGone,
    WalletLoginPending,
    WalletLoginRefused,
    end_previous_session,
    start_browser_session,
)
from keys import Keyring, UnknownKey

WALLET_LOGIN_COOKIE = "kluis_wallet_login"
MAX_ID_LENGTH = 64
MAX_SECRET_LENGTH = 128
RESULT_TYP = "kluis-verifier-result+jwt"


@dataclasses.dataclass
class StartedWalletLogin:
    login: WalletLogin
    verifier: VerifierSession
    secret: str  # for the browser's cookie only; never stored


def cookie_path(login_id: str) -> str:
    """The cookie goes only to this login's own pages, so several tabs can log in at once."""
    return f"/login/wallet/{login_id}"


def start_wallet_login(
    session: Session, config: VerifierConfig, *, return_to: str, purpose: str
) -> StartedWalletLogin:
    """A pending login by QR bound to a new browser secret (not committed)."""
    verifier = create_login_session(session, config, purpose)
    secret = new_token(32)
    login = WalletLogin(
        id=new_token(24),
        verifier_session_id=verifier.id,
        binding_hash=token_hash(secret),
        return_to=return_to,
        created_at=verifier.created_at,
        # the wallet may answer at the last moment: the browser then has the result's lifetime
        expires_at=verifier.expires_at + config.result_ttl,
    )
    session.add(login)
    session.flush()
    return StartedWalletLogin(login, verifier, secret)


def find_wallet_login(session: Session, login_id: str, secret: str | None) -> WalletLogin | None:
    """The login if this browser started it (its secret matches), else None."""
    if not secret or len(secret) > MAX_SECRET_LENGTH or len(login_id) > MAX_ID_LENGTH:
        return None
    login = session.get(WalletLogin, login_id)
    if login is None or not hmac.compare_digest(login.binding_hash, token_hash(secret)):
        return None
    return login


def wallet_login_status(session: Session, login: WalletLogin) -> str:
    """pending | scanned | done | expired | cancelled | used, as the desktop page shows it."""
    if login.consumed_at is not None:
        return "used"
    verifier = session.get(VerifierSession, login.verifier_session_id)
    return effective_status(verifier) if verifier is not None else "expired"


def wallet_login_state(session: Session, login: WalletLogin) -> dict[str, str]:
    """What the desktop page shows: `{status}`, and while the resident's Kluis wallet on the
    phone waits for it, `pairing_code` (the built-in wallet's relay guard: the resident types
    on the phone the code this screen shows). Only the browser holding the binding secret
    ever gets here, so a bystander who scanned the QR code does not see the code."""
    state = {"status": wallet_login_status(session, login)}
    if state["status"] == "scanned":
        pairing = session.get(WalletPairing, login.verifier_session_id)
        if pairing is not None:
            state["pairing_code"] = pairing.code
    return state


def _presented_entries(session: Session, keyring: Keyring, issuer: str, result: str) -> list[Any]:
    """The credentials of a login result: a JWT Kluis signed for itself (explicit algorithm,
    audience and issuer, as every JWT Kluis reads)."""
    try:
        kid = jwt.get_unverified_header(result).get("kid")
        key = keyring.public_key(session, str(kid))
        claims = jwt.decode(
            result,
            key,
            algorithms=["ES256"],
            audience=issuer,
            issuer=issuer,
            options={"require": ["iss", "aud", "exp", "credentials"]},
        )
    except (jwt.PyJWTError, UnknownKey) as exc:
        raise WalletLoginRefused() from exc
    entries = claims["credentials"]
    return entries if isinstance(entries, list) else []


def _account_of(session: Session, issuer: str, entries: list[Any]) -> Account:
    config = AttestationConfig(issuer)
    accounts: set[str | None] = set()
    for entry in entries:
        status = entry.get("status") if isinstance(entry, dict) else None
        try:
            ref = StatusReference.from_claims({"status": {"status_list": status}})
        except StatusUnavailable as exc:  # a result without a status entry logs no one in
            raise WalletLoginRefused() from exc
        accounts.add(account_of_credential(session, config, ref, iss=entry.get("iss")))
    if len(accounts) != 1 or None in accounts:
        raise WalletLoginRefused()
    [account_id] = accounts
    account = session.get(Account, account_id)
    if account is None or account.status != AccountStatus.ACTIVE.value:
        raise WalletLoginRefused()
    return account


def complete_wallet_login(
    accounts: Accounts,
    session: Session,
    keyring: Keyring,
    *,
    issuer: str,
    login_id: str,
    secret: str | None,
    previous_sid: str | None = None,
) -> tuple[BrowserSession, str]:
    """Finish a login by QR in the browser that started it. Returns the new browser session
    and where to go next. Refusals are audited in `session` before the error is raised: the
    caller commits in both cases."""
    login = find_wallet_login(session, login_id, secret)
    if login is None:
        raise WalletLoginGone()
    status = wallet_login_status(session, login)
    if status in ("pending", "scanned"):
        raise WalletLoginPending()
    verifier = session.get(VerifierSession, login.verifier_session_id)
    if (
        status != "done"
        or verifier is None
        or verifier.result is None
        or verifier.result_expires_at is None
        or verifier.result_expires_at <= utcnow()
    ):
        raise WalletLoginGone()
    try:
        account = _account_of(
            session, issuer, _presented_entries(session, keyring, issuer, verifier.result)
        )
    except WalletLoginRefused:
        record(session, "login.failed", "resident", None, {"reason": "wallet_credential_refused"})
        raise
    now = utcnow()
    consumed = session.execute(
        update(WalletLogin)
        .where(
            WalletLogin.id == login.id,
            WalletLogin.consumed_at.is_(None),
            WalletLogin.expires_at > now,
        )
        .values(consumed_at=now)
    )
    if rowcount(consumed) != 1:
        raise WalletLoginGone()
    clear_result(session, verifier.id)  # Kluis is done with it
    end_previous_session(accounts, session, previous_sid)
    browser = start_browser_session(
        session, account.id, ttl=accounts.session_ttl, amr=[AMR_WALLET], acr=ACR_ATTESTED
    )
    ref = accounts.subject_ref(session, account.id)
    record(session, "login.succeeded", "resident", ref, {"amr": browser.amr, "acr": browser.acr})
    return browser, login.return_to
