"""The authorization endpoint and its interaction pages (OIDC Core §3.1.2): the request is
checked (`authorize.CHECKS`), then `interaction.proceed` decides and does what comes next; this
router turns the outcome into a redirect (to the client, the login page or the consent page)
or the consent page itself."""

from __future__ import annotations

import logging
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core import (
    FormPairsDep,
    OAuthError,
    Params,
    ParamsDep,
    autocommit_on_server,
    check_csrf,
    in_session,
    openapi,
    page_language,
    render,
)
from identity.accounts.sessions import current_session
from identity.oidc.authorize import (
    AuthorizeFatal,
    AuthParams,
    error_redirect,
    load_pending,
    resolve_client,
    validate,
)
from identity.oidc.claims import POLL_PSEUDONYM
from identity.oidc.clients import get_client
from identity.oidc.interaction import (
    Outcome,
    Step,
    continue_path,
    decide,
    login_location,
    proceed,
)
from identity.oidc.models import AuthorizationRequest
from identity.oidc.provider import Provider, provider_of
from identity.oidc.web import (
    DbSession,
    bound_to_browser,
    browser_binding,
    fatal_page,
    with_binding_cookie,
)

log = logging.getLogger("kluis.oidc")
router = APIRouter(tags=["openid-connect"])

AUTHORIZATION_FIELDS = {
    "response_type": openapi.enum("code"),
    "client_id": None,
    "redirect_uri": None,
    "scope": None,
    "state": None,
    "nonce": None,
    "code_challenge": None,
    "code_challenge_method": openapi.enum("S256"),
    "prompt": None,
    "max_age": None,
    "claims": None,
    "acr_values": None,
    "ui_locales": None,
    "login_hint": None,
    "id_token_hint": None,
}


def _redirect(request: Request, p: AuthParams, outcome: Outcome, status: int = 302) -> Response:
    if outcome.step is None:
        return RedirectResponse(outcome.location, status)
    assert outcome.pending is not None
    if outcome.step is Step.LOGIN:
        location = login_location(p, outcome.pending)
    else:
        location = continue_path(outcome.pending)
    return with_binding_cookie(request, RedirectResponse(location, status))


# one registration per method, so each has its own OpenAPI operation id
@router.get("/authorize", name="authorize", openapi_extra=openapi.query(AUTHORIZATION_FIELDS))
@router.post(
    "/authorize", name="authorize_post", openapi_extra=openapi.form_body(AUTHORIZATION_FIELDS)
)
async def authorize(request: Request, params: ParamsDep) -> Response:
    return await in_session(request, partial(_authorize, request, params), local=True)


def _authorize(request: Request, params: Params, session: Session) -> Response:
    provider = provider_of(request)
    if params.error is not None:
        return fatal_page(request, "invalid_request")
    # Reads, and at most one write: the grant with its code (one INSERT … WITH on
    # PostgreSQL) or the request stored for a login or consent (one INSERT). On PostgreSQL
    # each statement commits on its own, as atomic as in a transaction.
    autocommit_on_server(session)
    raw = params.values
    try:
        client, redirect_uri = resolve_client(session, raw)
    except AuthorizeFatal as fatal:
        return fatal_page(request, str(fatal))
    p = AuthParams(client=client, redirect_uri=redirect_uri, raw=raw)
    try:
        validate(p, provider)
    except OAuthError as error:
        return RedirectResponse(error_redirect(p, provider.config.issuer, error), 302)
    # with the resident's consent decisions at this platform: whether to ask (one read)
    browser = current_session(request, session, decisions_at=client.client_id)
    outcome = proceed(session, provider, p, browser, None, lambda: browser_binding(request))
    session.commit()
    return _redirect(request, p, outcome)


def _pending_params(
    request: Request, session: DbSession, request_id: str
) -> tuple[AuthorizationRequest, AuthParams] | None:
    row = load_pending(session, request_id)
    if row is None:
        return None
    if not bound_to_browser(request, row.params.get("binding")):
        return None  # started in another browser: never continue someone else's request
    client = get_client(session, row.client_id)
    if client is None:
        return None
    return row, AuthParams.from_json(client, row.params)


def _consent_page(
    request: Request,
    session: Session,
    provider: Provider,
    p: AuthParams,
    row: AuthorizationRequest,
    account_id: str,
) -> Response:
    lang = page_language(request)
    # what Kluis holds nothing of for the resident yet (no proof of that kind, no name) is
    # said beside it: ticking it shares nothing now, only once the resident has it
    held: dict[str, object] | None
    try:
        held = provider.claims.resolve(session, account_id, p.claims.fields - {POLL_PSEUDONYM})
    except DBAPIError:
        raise  # the database's trouble is the request's (503 where it is gone)
    except Exception as error:  # a failing source is for the token or UserInfo to report:
        log.warning(  # the screen still asks, without the notes
            "consent page: a claim source failed", extra={"error": type(error).__name__}
        )
        held = None
    # one line per consented field (identity.oidc.claims.field_of)
    claims = [
        {
            "name": name,
            "label": provider.claims.label(name, lang),
            "detail": p.claims.poll_id if name == POLL_PSEUDONYM else None,
            "essential": name in p.claims.essential_fields,
            "not_held": held is not None and name != POLL_PSEUDONYM and name not in held,
        }
        for name in sorted(p.claims.fields)
    ]
    context = {
        "client": p.client,
        "claims": claims,
        "pending_id": row.id,
        "offline_access": "offline_access" in p.scopes,
    }
    return render(request, "consent.html", context)


@router.get("/authorize/continue/{request_id}", name="authorize_continue")
def authorize_continue(request: Request, request_id: str, session: DbSession) -> Response:
    provider = provider_of(request)
    found = _pending_params(request, session, request_id)
    if found is None:
        return fatal_page(request, "request_expired")
    row, p = found
    browser = current_session(request, session)
    outcome = proceed(session, provider, p, browser, row, lambda: browser_binding(request))
    session.commit()
    if outcome.step is Step.CONSENT:
        assert browser is not None  # consent is asked of a logged-in resident only
        return _consent_page(request, session, provider, p, row, browser.account_id)
    return _redirect(request, p, outcome)


@router.post(
    "/authorize/continue/{request_id}",
    name="authorize_decide",
    openapi_extra=openapi.form_body(
        {"csrf_token": None, "decision": openapi.enum("allow", "deny"), "claims": None}
    ),
)
def authorize_decide(
    request: Request, request_id: str, session: DbSession, pairs: FormPairsDep
) -> Response:
    provider = provider_of(request)
    form = dict(pairs)
    check_csrf(request, form)
    found = _pending_params(request, session, request_id)
    if found is None:
        return fatal_page(request, "request_expired")
    row, p = found
    browser = current_session(request, session)
    if browser is None:  # logged out meanwhile: to the login page, as on the first visit
        outcome = proceed(session, provider, p, None, row, lambda: browser_binding(request))
        session.commit()
        return _redirect(request, p, outcome)
    outcome = decide(
        session,
        provider,
        p,
        row,
        browser,
        allow=form.get("decision") == "allow",
        ticked={v for k, v in pairs if k == "claims"},
        language=page_language(request),
    )
    session.commit()
    return _redirect(request, p, outcome, 303)
