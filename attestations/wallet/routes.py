"""Pages of the built-in wallet: keep an offer (`/account/wallet/keep`), open a platform's
universal link (`/verifier/open`), type the pairing code, approve or refuse. Thin: check the
login and CSRF, call one domain function, commit, answer with a page or a redirect. Server
rendered, no JavaScript needed, Dutch and English."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from attestations.verifier.errors import RequestObjectGone
from attestations.verifier.login import LOGIN_KIND
from attestations.verifier.models import VerifierSession
from attestations.verifier.session import live_session
from attestations.wallet import messages  # noqa: F401 (registers the page texts)
from attestations.wallet.approve import (
    approve,
    platform_of,
    refuse,
    request_view,
    shown_value,
)
from attestations.wallet.errors import (
    NoMatchingCredential,
    OpenedByAnotherAccount,
    PairingFailed,
    SessionEnded,
)
from attestations.wallet.models import WalletPairing
from attestations.wallet.pairing import MAX_ATTEMPTS, check_pairing_code, open_session, pairing_for
from attestations.wallet.store import keep_offer
from attestations.web import attestation_config, verifier_config
from core import InvalidGrant, NotFound, check_csrf, page_language, render
from identity import FormStr, SessionDep, current_session, get_account, message_page, see_other
from keys import keyring_of, subject_keys_of

router = APIRouter(tags=["wallet"], include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}


def _login(target: str) -> RedirectResponse:
    return see_other("/login?" + urlencode({"return_to": target}, safe="/"))


def _account_id(request: Request, session: SessionDep) -> str | None:
    browser = current_session(request, session)
    return browser.account_id if browser is not None else None


def _page_path(session_id: str) -> str:
    return f"/wallet/sessions/{session_id}"


def _ended(request: Request, body: str = "wallet.ended.body") -> Response:
    return message_page(request, "wallet.ended.title", body, status_code=410)


def _resident_pairing(
    request: Request, session: SessionDep, session_id: str
) -> tuple[str, WalletPairing] | Response:
    """The logged-in resident and their pairing of this session, or the page to answer with:
    the login page, or "ended" (the same whether the session never existed, ended, or was
    opened by someone else)."""
    account_id = _account_id(request, session)
    if account_id is None:
        return _login(_page_path(session_id))
    try:
        return account_id, pairing_for(session, session_id, account_id)
    except SessionEnded:
        return _ended(request)


def _session_row(session: SessionDep, session_id: str) -> VerifierSession:
    row = session.get(VerifierSession, session_id)
    assert row is not None  # pairing_for found the live session
    return row


# --- keeping an offer ----------------------------------------------------------------------


@router.post("/account/wallet/keep")
def keep(
    request: Request,
    session: SessionDep,
    offer_id: FormStr = "",
    tx_code: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    account_id = _account_id(request, session)
    if account_id is None:
        return _login("/account")
    config = attestation_config(request)
    try:
        keep_offer(
            session,
            keyring_of(request),
            subject_keys_of(request),
            config,
            account_id=account_id,
            offer_id=offer_id,
            tx_code=tx_code,
        )
    except InvalidGrant:  # a wrong code was counted and committed
        # back to that offer's own code field, where the error is shown
        query = urlencode({"wallet": "wrong_code", "offer": offer_id})
        return see_other(f"/account?{query}#tx-{quote(offer_id)}")
    except NotFound:
        return see_other("/account?wallet=gone#wallet")
    session.commit()
    return see_other("/account?wallet=kept#wallet")


# --- the universal link and the approve page --------------------------------------------------


@router.get("/verifier/open", name="verifier_open")
def open_link(request: Request, session: SessionDep) -> Response:
    """The https form of the QR payload. A resident logged in to Kluis answers with the
    built-in wallet; anyone else chooses: open the same request in a wallet app (the
    `openid4vp://` QR payload), or log in to use the Kluis wallet (and come back here)."""
    client_id = request.query_params.get("client_id", "")
    request_uri = request.query_params.get("request_uri", "")
    if not client_id or not request_uri:
        raise RequestObjectGone()
    config = verifier_config(request)
    prefix = config.request_uri("")
    if client_id != config.client_id or not request_uri.startswith(prefix):
        return _ended(request)
    session_id = request_uri[len(prefix) :]
    account_id = _account_id(request, session)
    if account_id is None:
        row = live_session(session, session_id)
        if row is None:
            return _ended(request)
        return _chooser(request, config.qr_payload(session_id), platform_of(session, row))
    try:
        open_session(session, session_id, account_id)
    except SessionEnded:
        return _ended(request)
    except OpenedByAnotherAccount:
        return _ended(request, "wallet.other_account.body")
    session.commit()
    return see_other(_page_path(session_id))


def _chooser(request: Request, wallet_link: str, platform: str) -> Response:
    """No Kluis login in this browser: a wallet app or the Kluis wallet (no JavaScript),
    naming the platform that asks."""
    query = {k: request.query_params[k] for k in ("client_id", "request_uri")}
    target = f"{request.url.path}?{urlencode(query)}"
    login_link = "/login?" + urlencode({"return_to": target}, safe="/")
    context = {"wallet_link": wallet_link, "login_link": login_link, "platform": platform}
    response = render(request, "wallet/open.html", context)
    response.headers.update(NO_STORE)
    return response


def _pair_page(
    request: Request, session_id: str, platform: str, error_left: int | None = None
) -> Response:
    context = {
        "session_id": session_id,
        "platform": platform,
        "error_left": error_left,
        "max_attempts": MAX_ATTEMPTS,
    }
    status = 400 if error_left is not None else 200
    response = render(request, "wallet/pair.html", context, status_code=status)
    response.headers.update(NO_STORE)
    return response


@router.get("/wallet/sessions/{session_id}")
def wallet_page(request: Request, session: SessionDep, session_id: str) -> Response:
    found = _resident_pairing(request, session, session_id)
    if isinstance(found, Response):
        return found
    account_id, pairing = found
    row = _session_row(session, session_id)
    if pairing.paired_at is None:
        return _pair_page(request, session_id, platform_of(session, row))
    view = request_view(
        session, subject_keys_of(request), verifier_config(request), row, account_id
    )
    template = "wallet/approve.html" if view.matches is not None else "wallet/no_match.html"
    lang = page_language(request)
    context = {
        "session_id": session_id,
        "view": view,
        "login": row.kind == LOGIN_KIND,
        "shown": lambda values: ", ".join(shown_value(v, lang) for v in values),
    }
    if row.kind == LOGIN_KIND:  # who will be logged in on the other screen
        account = get_account(session, account_id)
        context["handle"] = account.handle if account is not None else ""
    response = render(request, template, context)
    response.headers.update(NO_STORE)
    return response


@router.post("/wallet/sessions/{session_id}/pair")
def pair(
    request: Request,
    session: SessionDep,
    session_id: str,
    code: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    found = _resident_pairing(request, session, session_id)
    if isinstance(found, Response):
        return found
    try:
        check_pairing_code(session, found[1], code)
    except PairingFailed as exc:
        session.commit()  # the wrong attempt (and a cancellation) must hold
        if exc.attempts_left == 0:
            return _ended(request, "wallet.pair_failed.body")
        platform = platform_of(session, _session_row(session, session_id))
        return _pair_page(request, session_id, platform, exc.attempts_left)
    session.commit()
    return see_other(_page_path(session_id))


@router.post("/wallet/sessions/{session_id}/decision")
def decide(
    request: Request,
    session: SessionDep,
    session_id: str,
    decision: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    found = _resident_pairing(request, session, session_id)
    if isinstance(found, Response):
        return found
    account_id, pairing = found
    if pairing.paired_at is None:
        return see_other(_page_path(session_id))
    row = _session_row(session, session_id)
    config, lang = verifier_config(request), page_language(request)
    subject_keys, keyring = subject_keys_of(request), keyring_of(request)
    platform = platform_of(session, row)
    if decision == "allow":
        try:
            approve(session, keyring, subject_keys, config, row, account_id, lang)
        except NoMatchingCredential:
            return see_other(_page_path(session_id))
        session.commit()
        done = "wallet.logged_in" if row.kind == LOGIN_KIND else "wallet.shared"
        return message_page(request, f"{done}.title", f"{done}.body", platform=platform)
    refuse(session, keyring, subject_keys, config, row, account_id, lang)
    session.commit()
    refused = "wallet.login_refused" if row.kind == LOGIN_KIND else "wallet.refused"
    return message_page(request, f"{refused}.title", f"{refused}.body", platform=platform)
