"""RP-Initiated Logout 1.0 (§2, §3): the end-session endpoint and its confirmation."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from core import ParamsDep, check_csrf, render
from identity.accounts.sessions import (
    SESSION_COOKIE,
    BrowserSession,
    current_session,
    end_browser_session,
    public_sid,
)
from identity.oidc.logout import InvalidLogoutRequest, end_session, resolve_post_logout
from identity.oidc.provider import Provider, provider_of
from identity.oidc.web import DbSession, fatal_page

router = APIRouter(tags=["openid-connect"])


def _finish_logout(
    request: Request,
    session: Session,
    provider: Provider,
    browser: BrowserSession | None,
    target: str | None,
) -> Response:
    if browser is not None:
        subject_ref = provider.subject_keys.reference(session, browser.account_id)
        end_session(session, provider, public_sid(browser.sid), subject_ref)
        end_browser_session(session, browser.sid, subject_keys=provider.subject_keys)
        session.commit()
    response: Response = (
        RedirectResponse(target, 303) if target else render(request, "logged_out.html")
    )
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# one registration per method, so each has its own OpenAPI operation id
@router.get("/logout", name="end_session")
@router.post("/logout", name="end_session_post")
def logout(request: Request, session: DbSession, raw: ParamsDep) -> Response:
    """OIDC RP-Initiated Logout 1.0 §2. Without a hint for this very session we ask the
    resident to confirm, so a third-party page cannot log them out."""
    provider = provider_of(request)
    if raw.error is not None:
        return fatal_page(request, "invalid_logout")
    params = raw.values
    try:
        client, claims, target = resolve_post_logout(session, provider, params)
    except InvalidLogoutRequest:
        return fatal_page(request, "invalid_logout")
    browser = current_session(request, session)
    hinted_this_session = (
        browser is not None
        and client is not None
        and claims is not None
        and claims.get("sid") == provider.subject_ids.session_for(client, public_sid(browser.sid))
    )
    if browser is None or hinted_this_session:
        return _finish_logout(request, session, provider, browser, target)
    return render(
        request,
        "logout_confirm.html",
        {"client": client, "params": {k: v for k, v in params.items() if k != "csrf_token"}},
    )


@router.post("/logout/confirm", name="end_session_confirm")
def logout_confirm(request: Request, session: DbSession, raw: ParamsDep) -> Response:
    provider = provider_of(request)
    form = raw.values
    check_csrf(request, form)
    params = {k: v for k, v in form.items() if k not in ("csrf_token", "decision")}
    try:
        _, _, target = resolve_post_logout(session, provider, params)
    except InvalidLogoutRequest:
        return fatal_page(request, "invalid_logout")
    if form.get("decision") != "logout":
        return RedirectResponse("/", 303)
    return _finish_logout(request, session, provider, current_session(request, session), target)
