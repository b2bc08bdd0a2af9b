"""The token endpoint (RFC 6749 §3.2), which dispatches to the registered grants
(`identity.oidc.grants`), and the endpoints a token is used at: UserInfo (OIDC Core §5.3),
introspection (RFC 7662) and revocation (RFC 7009)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import Future
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from core import (
    InvalidRequest,
    InvalidToken,
    Params,
    ParamsDep,
    UnsupportedGrantType,
    autocommit_on_server,
    begun,
    in_session,
    on_event_loop,
    openapi,
    released,
)
from identity.oidc import tokens
from identity.oidc.client_auth import authenticate_client
from identity.oidc.models import Client
from identity.oidc.provider import provider_of
from identity.oidc.resource import introspection, userinfo_response
from identity.oidc.web import NO_STORE, DbSession
from keys import PendingJwt

router = APIRouter(tags=["openid-connect"])
OAUTH_PATHS = {"/token", "/userinfo", "/introspect", "/revoke"}

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
LOCAL_GRANTS = frozenset({"authorization_code", "refresh_token"})
TOKEN_REFERENCE_FIELDS = {
    "token": None,
    "token_type_hint": openapi.enum("access_token", "refresh_token"),
    **openapi.CLIENT_AUTH_FIELDS,
}


@router.post("/token", name="token", openapi_extra=openapi.form_body(TOKEN_FIELDS, ["grant_type"]))
async def token(request: Request, params: ParamsDep) -> JSONResponse:
    # The code and refresh grants wait on nothing but the database, unless the client
    # authenticates with an assertion (private_key_jwt may fetch the client's jwks_uri).
    local = params.get("grant_type") in LOCAL_GRANTS and not params.get("client_assertion")
    body = await in_session(request, partial(_token, request, params), local=local)
    return JSONResponse(await _sign_pending(body), headers=NO_STORE)


def _token(request: Request, params: Params, session: Session) -> dict[str, Any]:
    provider = provider_of(request)
    form = params.require_form()
    grant_type = form.get("grant_type")
    grant = provider.grants.get(grant_type)
    client = None
    if grant is None or not grant.anonymous:
        client = _authenticated(request, session, form)
    if not grant_type:
        raise InvalidRequest("grant_type is required")
    if grant is None:
        raise UnsupportedGrantType(f"grant_type {grant_type} is not supported")
    body = grant.handle(session, provider, client, form)
    # A lone request begins its RSA signature in the offload pool before the COMMIT, so
    # that it runs while the COMMIT waits for its fsync or round trip; the endpoint awaits
    # it after the transaction, as below. A failed commit leaves it unsent.
    pending = body.get("id_token")
    if isinstance(pending, PendingJwt) and pending.slow:
        signing = begun(pending.sign)
        if signing is not None:
            body["id_token"] = signing
    session.commit()
    # Else the ID token is signed after the commit (`_sign_pending`): in a worker thread
    # right here, on the event loop's thread by the endpoint. A signature begun above is
    # awaited by the endpoint either way.
    return body if on_event_loop() else _sign_now(body)


async def _sign_pending(body: dict[str, Any]) -> dict[str, Any]:
    """`body` with its ID token signed: after the transaction has committed, so that neither
    SQLite's write lock nor the audit log's append lock is held through an RSA signature, and
    beside the event loop when other requests wait (`core.offload.released`). What the
    token response promises is durable before it is sent, as before; should the signature
    fail, the tokens stay issued unseen (as when a response is lost on its way)."""
    pending = body.get("id_token")
    if isinstance(pending, Future):  # begun before the commit (`_token`)
        body["id_token"] = await asyncio.wrap_future(pending)
    elif isinstance(pending, PendingJwt):
        body["id_token"] = await released(pending.sign)
    return body


def _sign_now(body: dict[str, Any]) -> dict[str, Any]:
    """`_sign_pending` for a worker thread (the event loop runs meanwhile), after the commit;
    a signature begun before the commit (a future) is left to the endpoint to await."""
    pending = body.get("id_token")
    if isinstance(pending, PendingJwt):
        body["id_token"] = pending.sign()
    return body


def _authenticated(request: Request, session: Session, form: Mapping[str, str]) -> Client:
    """The authenticated client (a consumed assertion `jti` is committed by
    `authenticate_client`)."""
    return authenticate_client(
        session, provider_of(request), form, request.headers.get("authorization")
    )


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
async def userinfo(request: Request, params: ParamsDep) -> JSONResponse:
    """OIDC Core §5.3: `sub` plus the requested claims under active consent."""
    return await in_session(request, partial(_userinfo, request, params), local=True)


def _userinfo(request: Request, params: Params, session: Session) -> JSONResponse:
    bearer = _bearer(request, params)  # (no connection taken for a request without one)
    # Reads, and one write: the `claims.released` entry, one statement on PostgreSQL
    # (`audit_append`), which commits on its own there before the answer is built
    autocommit_on_server(session)
    body = userinfo_response(session, provider_of(request), bearer)
    session.commit()
    return JSONResponse(body, headers=NO_STORE)


def _reference(request: Request, session: Session, params: Params) -> tuple[Client, str]:
    """The authenticated client (a used assertion `jti` is committed) and the `token` the
    request is about."""
    form = params.require_form()
    client = _authenticated(request, session, form)
    value = form.get("token")
    if not value:
        raise InvalidRequest("token is required")
    return client, value


@router.post(
    "/introspect",
    name="introspect",
    openapi_extra=openapi.form_body(TOKEN_REFERENCE_FIELDS, ["token"]),
)
def introspect(request: Request, session: DbSession, params: ParamsDep) -> JSONResponse:
    """RFC 7662. A client learns only about its own tokens; anything else is inactive."""
    client, value = _reference(request, session, params)
    body = introspection(session, provider_of(request), client, value)
    return JSONResponse(body, headers=NO_STORE)


@router.post(
    "/revoke", name="revoke", openapi_extra=openapi.form_body(TOKEN_REFERENCE_FIELDS, ["token"])
)
def revoke(request: Request, session: DbSession, params: ParamsDep) -> Response:
    """RFC 7009: always 200 for a well-formed request, whether or not the token existed."""
    client, value = _reference(request, session, params)
    tokens.revoke_token(session, value, client)
    session.commit()
    return Response(status_code=200, headers=NO_STORE)
