"""HTTP surface of the OpenID provider: a thin router. Each route validates its input, calls
the domain functions, commits, and maps the outcome to a response. OAuth errors become JSON
(RFC 6749 §5.2) in one place (service.app); authorization errors become redirects."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from attestations.config import PRE_AUTH_GRANT
from attestations.routes import pre_authorized_token
from consent.audit import record
from consent.ledger import record_decision
from core import csrf, openapi
from core.db import db_session, utcnow
from core.errors import AccessDenied, InvalidRequest, InvalidToken, OAuthError, UnsupportedGrantType
from core.tokens import token_hash
from core.web import check_csrf, page_language, render
from identity.accounts.sessions import (
    SESSION_COOKIE,
    BrowserSession,
    current_session,
    end_browser_session,
    public_sid,
)
from identity.oidc import tokens
from identity.oidc.authorize import (
    AuthorizeFatal,
    AuthParams,
    error_redirect,
    issue_code,
    load_pending,
    resolve_client,
    save_pending,
    validate,
)
from identity.oidc.claims import POLL_PSEUDONYM
from identity.oidc.client_auth import authenticate_client
from identity.oidc.clients import get_client
from identity.oidc.discovery import configuration
from identity.oidc.interaction import Step, next_step, wallet_required
from identity.oidc.logout import InvalidLogoutRequest, end_session, resolve_post_logout
from identity.oidc.models import AuthorizationRequest
from identity.oidc.poll import record_claims_decision
from identity.oidc.provider import Provider
from identity.oidc.registration import (
    InvalidClientMetadataError,
    consume_initial_access_token,
    register_client,
)
from identity.oidc.sector import fetch_sector_uris

router = APIRouter(tags=["openid-connect"])
DbSession = Annotated[Session, Depends(db_session)]
OAUTH_PATHS = {"/token", "/userinfo", "/introspect", "/revoke", "/connect/register"}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


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
TOKEN_FIELDS = {
    "grant_type": openapi.enum(
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:pre-authorized_code",
    ),
    "code": None,
    "redirect_uri": None,
    "code_verifier": None,
    "refresh_token": None,
    "scope": None,
    "pre-authorized_code": None,
    "tx_code": None,
    **openapi.CLIENT_AUTH_FIELDS,
}
TOKEN_REFERENCE_FIELDS = {
    "token": None,
    "token_type_hint": openapi.enum("access_token", "refresh_token"),
    **openapi.CLIENT_AUTH_FIELDS,
}
REGISTRATION_FIELDS = {
    "redirect_uris": {"type": "array", "items": {"type": "string"}},
    "post_logout_redirect_uris": {"type": "array", "items": {"type": "string"}},
    "client_name": None,
    "token_endpoint_auth_method": openapi.enum("client_secret_basic", "private_key_jwt", "none"),
    "grant_types": {"type": "array", "items": {"type": "string"}},
    "response_types": {"type": "array", "items": {"type": "string"}},
    "jwks_uri": None,
    "jwks": {"type": "object"},
    "sector_identifier_uri": None,
    "subject_type": openapi.enum("pairwise", "public"),
    "backchannel_logout_uri": None,
    "events_uri": None,
}


def provider_of(request: Request) -> Provider:
    provider: Provider = request.app.state.oidc
    return provider


@dataclasses.dataclass
class Params:
    """Query parameters (GET) or form fields (POST). Repeated parameters are an error
    (RFC 6749 §3.1), kept in `error` so each endpoint answers it its own way; unknown ones
    are kept and ignored by the checks. `form` is whether the body was a urlencoded form."""

    values: dict[str, str]
    error: InvalidRequest | None
    form: bool
    repeated: list[str] = dataclasses.field(default_factory=list)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def require_form(self) -> dict[str, str]:
        if not self.form:
            raise InvalidRequest("the body must be application/x-www-form-urlencoded")
        if self.error is not None:
            raise self.error
        return self.values


async def read_params(request: Request) -> Params:
    """Async dependency: the body is read on the event loop, so the (sync) routes that do
    the database work run in the thread pool and never block the loop."""
    is_form = request.method == "POST" and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    )
    source = await request.form() if is_form else request.query_params
    values: dict[str, str] = {}
    error: InvalidRequest | None = None
    for key, value in source.multi_items():
        if not isinstance(value, str):
            continue
        if key in values:
            error = InvalidRequest(f"parameter {key} is repeated")
        values[key] = value
    if request.method == "POST" and not is_form:
        values = {}
    return Params(values, error, is_form)


async def read_form_list(request: Request) -> list[tuple[str, str]]:
    """The form as ordered pairs (for repeated fields such as `claims`)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return []
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


ParamsDep = Annotated[Params, Depends(read_params)]
FormListDep = Annotated[list[tuple[str, str]], Depends(read_form_list)]


def _fatal_page(request: Request, message_key: str) -> Response:
    return render(
        request,
        "oidc_error.html",
        {"message_key": message_key},
        status_code=400,
    )


def _browser_binding(request: Request) -> str:
    cookie = request.cookies.get(csrf.CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if cookie is None:
        cookie = csrf.new_cookie_value()
        request.state.new_csrf = cookie
    return token_hash(cookie)


def _with_binding_cookie(request: Request, response: Response) -> Response:
    new = getattr(request.state, "new_csrf", None)
    if new is not None:
        response.set_cookie(
            csrf.CSRF_COOKIE,
            new,
            httponly=True,
            samesite="lax",
            path="/",
            secure=request.app.state.templates.secure_cookies,
        )
    return response


def _proceed(
    request: Request,
    session: Session,
    provider: Provider,
    p: AuthParams,
    browser: BrowserSession | None,
    pending: AuthorizationRequest | None,
) -> Response:
    """Login, consent or code — whatever the request needs next."""
    requested_at = pending.created_at if pending else utcnow()
    consented = bool(pending and pending.params.get("consented"))
    try:
        step = next_step(
            session,
            p,
            account_id=browser.account_id if browser else None,
            auth_time=browser.auth_time if browser else None,
            requested_at=requested_at,
            consented=consented,
            acr=browser.acr if browser else None,
        )
    except OAuthError as error:
        return RedirectResponse(error_redirect(p, provider.config.issuer, error), 302)
    if step is Step.ISSUE:
        assert browser is not None
        location = issue_code(
            session,
            provider,
            p,
            account_id=browser.account_id,
            sid=public_sid(browser.sid),
            auth_time=browser.auth_time,
            acr=browser.acr,
            amr=browser.amr,
        )
        if pending is not None:
            pending.completed_at = utcnow()
        session.commit()
        return RedirectResponse(location, 302)
    if pending is None:
        pending = save_pending(
            session, p, provider.config.request_ttl, {"binding": _browser_binding(request)}
        )
        pending.account_id = browser.account_id if browser else None
        session.commit()
    continue_path = f"/authorize/continue/{pending.id}"
    if step is Step.LOGIN:
        query = {"return_to": continue_path}
        if wallet_required(p.required_acr):
            query["mode"] = "wallet"
        if p.login_hint:
            query["login_hint"] = p.login_hint
        if p.ui_locales:
            lang = next((t for t in p.ui_locales.split() if t[:2] in ("nl", "en")), None)
            if lang:
                query["lang"] = lang[:2]
        response: Response = RedirectResponse("/login?" + urlencode(query), 302)
    else:
        response = RedirectResponse(continue_path, 302)
    return _with_binding_cookie(request, response)


# one registration per method, so each has its own OpenAPI operation id
@router.get("/authorize", name="authorize", openapi_extra=openapi.query(AUTHORIZATION_FIELDS))
@router.post(
    "/authorize", name="authorize_post", openapi_extra=openapi.form_body(AUTHORIZATION_FIELDS)
)
def authorize(request: Request, session: DbSession, params: ParamsDep) -> Response:
    provider = provider_of(request)
    if params.error is not None:
        return _fatal_page(request, "invalid_request")
    raw = params.values
    try:
        client, redirect_uri = resolve_client(session, raw)
    except AuthorizeFatal as fatal:
        return _fatal_page(request, str(fatal))
    p = AuthParams(client=client, redirect_uri=redirect_uri, raw=raw)
    try:
        validate(p, provider)
    except OAuthError as error:
        return RedirectResponse(error_redirect(p, provider.config.issuer, error), 302)
    return _proceed(request, session, provider, p, current_session(request, session), None)


def _pending_params(
    request: Request, session: Session, request_id: str
) -> tuple[AuthorizationRequest, AuthParams] | None:
    row = load_pending(session, request_id)
    if row is None:
        return None
    cookie = request.cookies.get(csrf.CSRF_COOKIE)
    if not cookie or token_hash(cookie) != row.params.get("binding"):
        return None  # started in another browser: never continue someone else's request
    client = get_client(session, row.client_id)
    if client is None:
        return None
    return row, AuthParams.from_json(client, row.params)


@router.get("/authorize/continue/{request_id}", name="authorize_continue")
def authorize_continue(request: Request, request_id: str, session: DbSession) -> Response:
    provider = provider_of(request)
    found = _pending_params(request, session, request_id)
    if found is None:
        return _fatal_page(request, "request_expired")
    row, p = found
    browser = current_session(request, session)
    if browser is not None and row.account_id != browser.account_id:
        row.account_id = browser.account_id  # so erasure finds the resident's requests
        session.commit()
    try:
        step = next_step(
            session,
            p,
            account_id=browser.account_id if browser else None,
            auth_time=browser.auth_time if browser else None,
            requested_at=row.created_at,
            consented=bool(row.params.get("consented")),
            acr=browser.acr if browser else None,
        )
    except OAuthError as error:
        return RedirectResponse(error_redirect(p, provider.config.issuer, error), 302)
    if step is Step.CONSENT:
        lang = page_language(request)
        # one line per consented field (identity.oidc.claims.field_of)
        claims = [
            {
                "name": name,
                "label": provider.claims.label(name, lang),
                "detail": p.claims.poll_id if name == POLL_PSEUDONYM else None,
                "essential": name in p.claims.essential_fields,
            }
            for name in sorted(p.claims.fields)
        ]
        return render(
            request,
            "consent.html",
            {
                "client": p.client,
                "claims": claims,
                "pending_id": row.id,
                "offline_access": "offline_access" in p.scopes,
            },
        )
    return _proceed(request, session, provider, p, browser, row)


@router.post(
    "/authorize/continue/{request_id}",
    name="authorize_decide",
    openapi_extra=openapi.form_body(
        {"csrf_token": None, "decision": openapi.enum("allow", "deny"), "claims": None}
    ),
)
def authorize_decide(
    request: Request, request_id: str, session: DbSession, pairs: FormListDep
) -> Response:
    provider = provider_of(request)
    form = dict(pairs)
    check_csrf(request, form)
    found = _pending_params(request, session, request_id)
    if found is None:
        return _fatal_page(request, "request_expired")
    row, p = found
    browser = current_session(request, session)
    if browser is None:
        return _proceed(request, session, provider, p, None, row)
    subject_ref = provider.subject_keys.reference(session, browser.account_id)
    if form.get("decision") != "allow":
        record(
            session,
            "consent.request_denied",
            "resident",
            subject_ref,
            {"client": p.client.client_id},
        )
        row.completed_at = utcnow()
        session.commit()
        error = AccessDenied("the resident denied the request")
        return RedirectResponse(error_redirect(p, provider.config.issuer, error), 303)
    ticked = {v for k, v in pairs if k == "claims"}
    given = (ticked & p.claims.fields) | p.claims.essential_fields
    if "offline_access" in p.scopes:
        offline = "offline_access" in ticked
        record_decision(
            session,
            account_id=browser.account_id,
            subject_ref=subject_ref,
            client_id=p.client.client_id,
            given=["offline_access"] if offline else [],
            refused=[] if offline else ["offline_access"],
            purpose="offline-access",
            purpose_description=p.client.purpose,
            language=page_language(request),
        )
        if not offline:
            p.scopes.discard("offline_access")
            row.params = {**row.params, "scopes": sorted(p.scopes)}
    record_claims_decision(
        session,
        poll_id=p.claims.poll_id,
        account_id=browser.account_id,
        subject_ref=subject_ref,
        client_id=p.client.client_id,
        given=given,
        refused=p.claims.fields - given,
        purpose_description=p.client.purpose,
        language=page_language(request),
    )
    row.params = {**row.params, "consented": True}
    response = _proceed(request, session, provider, p, browser, row)
    response.status_code = 303
    return response


async def read_json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


@router.post(
    "/connect/register",
    name="register_client",
    status_code=201,
    openapi_extra=openapi.json_body(REGISTRATION_FIELDS),
)
def register(
    request: Request, session: DbSession, metadata: Annotated[Any, Depends(read_json)]
) -> JSONResponse:
    """RFC 7591 §3 with an initial access token as bearer."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() != "bearer ":
        raise InvalidToken("an initial access token is required")
    if not isinstance(metadata, dict):
        raise InvalidClientMetadataError("the body must be a JSON object")
    consume_initial_access_token(session, header[7:].strip())
    body = register_client(
        session,
        metadata,
        fetch_sector_uris,
        allow_loopback_targets=not request.app.state.settings.production,
    )
    session.commit()
    return JSONResponse(body, status_code=201, headers=NO_STORE)


@router.get("/.well-known/openid-configuration", name="openid_configuration")
def openid_configuration(request: Request) -> JSONResponse:
    return JSONResponse(
        configuration(provider_of(request).config),
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.post("/token", name="token", openapi_extra=openapi.form_body(TOKEN_FIELDS, ["grant_type"]))
def token(request: Request, session: DbSession, params: ParamsDep) -> JSONResponse:
    provider = provider_of(request)
    form = params.require_form()
    if form.get("grant_type") == PRE_AUTH_GRANT:
        # OpenID4VCI §6: wallets redeem pre-authorized codes anonymously (no client auth).
        return pre_authorized_token(request, session, form)
    client = authenticate_client(session, provider, form, request.headers.get("authorization"))
    session.commit()  # a consumed client-assertion jti stays consumed even if the grant fails
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        body = tokens.exchange_code(session, provider, client, form)
    elif grant_type == "refresh_token":
        body = tokens.refresh(session, provider, client, form)
    elif not grant_type:
        raise InvalidRequest("grant_type is required")
    else:
        raise UnsupportedGrantType(f"grant_type {grant_type} is not supported")
    session.commit()
    return JSONResponse(body, headers=NO_STORE)


def _bearer(request: Request, params: Params) -> str:
    """RFC 6750 §2.1 header, or §2.2 form body; never the query string."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    value = params.get("access_token") if params.form else None
    if value:
        return value
    raise InvalidToken("a bearer access token is required")


# one registration per method, so each has its own OpenAPI operation id
@router.get("/userinfo", name="userinfo")
@router.post("/userinfo", name="userinfo_post")
def userinfo(request: Request, session: DbSession, params: ParamsDep) -> JSONResponse:
    """OIDC Core §5.3: `sub` plus the requested claims under active consent."""
    provider = provider_of(request)
    found = tokens.active_token(session, _bearer(request, params), "access")
    if found is None:
        raise InvalidToken("the access token is invalid, expired or revoked")
    access, grant = found
    if "openid" not in access.scope.split():
        raise InvalidToken("the access token was not issued for OpenID Connect")
    client = get_client(session, grant.client_id)
    if client is None:
        raise InvalidToken("the client no longer exists")
    names = tokens.released_claims(session, grant, "userinfo")
    if access.scope != grant.scope:
        # A refresh narrowed this token's scope (RFC 6749 §6): scope-derived claims follow
        # the token; claims asked for by name (claims parameter) stay as granted.
        registry = provider.claims
        from_grant_scopes = registry.claims_for_scopes(set(grant.scope.split()))
        by_name = names - from_grant_scopes
        names = (names & registry.claims_for_scopes(set(access.scope.split()))) | by_name
    values = tokens.resolve_claims(session, provider, client, grant, names)
    body: dict[str, Any] = {"sub": provider.subject_ids.for_client(client, grant.account_id)}
    body.update(values)
    tokens.record_release(session, provider, grant, values, "userinfo")
    session.commit()
    return JSONResponse(body, headers=NO_STORE)


@router.post(
    "/introspect",
    name="introspect",
    openapi_extra=openapi.form_body(TOKEN_REFERENCE_FIELDS, ["token"]),
)
def introspect(request: Request, session: DbSession, params: ParamsDep) -> JSONResponse:
    """RFC 7662. A client learns only about its own tokens; anything else is inactive."""
    provider = provider_of(request)
    form = params.require_form()
    client = authenticate_client(session, provider, form, request.headers.get("authorization"))
    session.commit()  # a consumed client-assertion jti must stay consumed
    value = form.get("token")
    if not value:
        raise InvalidRequest("token is required")
    found = tokens.active_token(session, value)
    if found is None or found[0].client_id != client.client_id:
        return JSONResponse({"active": False}, headers=NO_STORE)
    row, grant = found
    return JSONResponse(
        {
            "active": True,
            "scope": row.scope,
            "client_id": row.client_id,
            "token_type": "Bearer" if row.kind == "access" else "refresh_token",
            "exp": int(row.expires_at.timestamp()),
            "iat": int(row.issued_at.timestamp()),
            "sub": provider.subject_ids.for_client(client, grant.account_id),
            "aud": client.client_id,
            "iss": provider.config.issuer,
        },
        headers=NO_STORE,
    )


@router.post(
    "/revoke", name="revoke", openapi_extra=openapi.form_body(TOKEN_REFERENCE_FIELDS, ["token"])
)
def revoke(request: Request, session: DbSession, params: ParamsDep) -> Response:
    """RFC 7009: always 200 for a well-formed request, whether or not the token existed."""
    provider = provider_of(request)
    form = params.require_form()
    client = authenticate_client(session, provider, form, request.headers.get("authorization"))
    session.commit()  # a consumed client-assertion jti stays consumed
    value = form.get("token")
    if not value:
        raise InvalidRequest("token is required")
    tokens.revoke_token(session, value, client)
    session.commit()
    return Response(status_code=200, headers=NO_STORE)


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
        return _fatal_page(request, "invalid_logout")
    params = raw.values
    try:
        client, claims, target = resolve_post_logout(session, provider, params)
    except InvalidLogoutRequest:
        return _fatal_page(request, "invalid_logout")
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
        return _fatal_page(request, "invalid_logout")
    if form.get("decision") != "logout":
        return RedirectResponse("/", 303)
    return _finish_logout(request, session, provider, current_session(request, session), target)
