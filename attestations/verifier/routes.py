"""HTTP surface of the verifier: the platform API (`/verifier/sessions`, client-authenticated)
and the wallet-facing OpenID4VP endpoints (`/verifier/request/{id}`, `/verifier/response`).

Bodies are read in async dependencies; the database work of every route runs in the thread
pool, and the waiting forms (long-poll, SSE) check the database from the thread pool too, so
the event loop never blocks and SQLite never deadlocks. The four requests of a verification
(create, request object, response, status) are async endpoints that hand their work to the
thread pool themselves, in a session they open there (`core.in_session`): FastAPI's per-request
session dependency (an async generator with its exit stack) was a visible share of their CPU.
On PostgreSQL waiters are woken by LISTEN/NOTIFY (`wakeup`), from whichever app process
changed the session.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from attestations.platforms import authenticate_platform
from attestations.qr import qr_png, qr_svg
from attestations.verifier.config import VerifierConfig
from attestations.verifier.errors import (
    InvalidSessionRequest,
    PresentationRejected,
    RequestObjectGone,
    SessionNotFound,
    VerifierNotConfigured,
)
from attestations.verifier.request_object import MEDIA_TYPE, request_object
from attestations.verifier.response import receive_response
from attestations.verifier.session import (
    cancel_session,
    clear_result,
    create_session,
    live_session,
    scan_session,
    session_for_client,
    session_links,
    status_body,
    status_for_client,
)
from attestations.verifier.waiting import events, long_poll, request_listener
from attestations.verifier.widget import widget_links
from attestations.web import verifier_config
from core import FormDep as FormBody
from core import JsonBody, autocommit_on_server, database_of, db_session, in_session, openapi
from keys import keyring_of

router = APIRouter(tags=["verifier"])
DbSession = Annotated[Session, Depends(db_session)]
OAUTH_PATHS = {"/verifier/response"}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_WAIT_SECONDS = 30


def _require_identity(request: Request, config: VerifierConfig) -> None:
    """Production needs `x509_san_dns:`: `redirect_uri:` requests are unauthenticated, so a
    wallet cannot tell Kluis from anyone who copies its response URI (§5.9.3, §14)."""
    if config.signer is None and request.app.state.settings.production:
        raise VerifierNotConfigured(
            "set KLUIS_VERIFIER_X509_KEY_FILE and KLUIS_VERIFIER_X509_CHAIN_FILE: production "
            "verification sessions need the x509_san_dns client identifier"
        )


# --- the platform API ------------------------------------------------------------------------


@router.post(
    "/verifier/sessions",
    name="verifier_create_session",
    status_code=201,
    openapi_extra=openapi.json_body(
        {
            "purpose": None,
            "poll_id": None,
            "return_uri": None,
            "dcql_query": {"type": "object"},
            "client_assertion_type": openapi.CLIENT_AUTH_FIELDS["client_assertion_type"],
            "client_assertion": None,
        },
        ["dcql_query", "purpose"],
    ),
)
async def create(request: Request, body: JsonBody) -> JSONResponse:
    return await in_session(request, partial(_create, request, body))


def _create(request: Request, body: Any, session: Session) -> JSONResponse:
    # reads, and one write: the session with its audit entry, one statement on PostgreSQL
    # (`record_if`). The purge every 30 s commits its two statements on their own (each is
    # complete alone); a `private_key_jwt` assertion's `jti` is committed at once anyway,
    # and what follows it then runs in a transaction of its own (`authenticate_client`).
    autocommit_on_server(session)
    client_id = authenticate_platform(request, session, body).client_id
    if body is None:
        raise InvalidSessionRequest("the body must be a JSON object (application/json)")
    config = verifier_config(request)
    _require_identity(request, config)
    row = create_session(session, config, client_id, body)
    session.commit()
    return JSONResponse(
        {**session_links(config, row), **widget_links(config, row)},
        status_code=201,
        headers={**NO_STORE, "Location": config.status_url(row.id)},
    )


def _wait_seconds(request: Request) -> float:
    raw = request.query_params.get("wait")
    if raw is None:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_WAIT_SECONDS:
        raise InvalidSessionRequest(f"wait must be 0 to {MAX_WAIT_SECONDS} seconds")
    return value


@router.get("/verifier/sessions/{session_id}", name="verifier_session_status")
async def status(request: Request, session_id: str) -> Response:
    """`{status, result?}`; `?wait=SECONDS` long-polls; `Accept: text/event-stream` streams."""
    return await in_session(request, partial(_status, request, session_id))


def _status(request: Request, session_id: str, session: Session) -> Response:
    autocommit_on_server(session)  # reads, and at most the UPDATE erasing an expired result
    client_id = authenticate_platform(request, session).client_id
    row = status_for_client(session, client_id, session_id)
    stream = "text/event-stream" in request.headers.get("accept", "")
    wait = 0.0 if stream else _wait_seconds(request)
    if not stream and not wait:  # a plain read: answered from the row just read, one transaction
        body = status_body(session, row)
        session.commit()
        return JSONResponse(body, headers=NO_STORE)
    # Release the connection (on SQLite: the write lock BEGIN IMMEDIATE took) before waiting;
    # each check below opens its own short transaction.
    session.close()
    database = database_of(request)
    if stream:
        config = verifier_config(request)
        limit = config.session_ttl.total_seconds() + config.result_ttl.total_seconds()
        return StreamingResponse(
            events(request, database, client_id, session_id, limit, request_listener(request)),
            media_type="text/event-stream",
            headers={**NO_STORE, "X-Accel-Buffering": "no"},
        )
    return StreamingResponse(
        long_poll(database, client_id, session_id, wait, request_listener(request)),
        media_type="application/json",
        headers=NO_STORE,
    )


@router.delete("/verifier/sessions/{session_id}", name="verifier_cancel_session")
def cancel(request: Request, session_id: str, session: DbSession) -> JSONResponse:
    """Cancel an open session; for a finished one, erase its result at once."""
    client_id = authenticate_platform(request, session).client_id
    row = session_for_client(session, client_id, session_id)
    if not cancel_session(session, row, f"client:{client_id}", "platform"):
        clear_result(session, row.id)  # a finished session: the platform is done with it
        session.refresh(row)
    body = status_body(session, row)
    session.commit()
    return JSONResponse(body, headers=NO_STORE)


def _qr_data(request: Request, session: Session, session_id: str) -> str:
    """QR codes are as public as the code shown on the platform's page: no authentication,
    but only while the session is open."""
    if live_session(session, session_id) is None:
        raise SessionNotFound()
    return verifier_config(request).qr_payload(session_id)


@router.get("/verifier/sessions/{session_id}/qr.png", name="verifier_qr_png")
def qr_image_png(request: Request, session_id: str, session: DbSession) -> Response:
    data = _qr_data(request, session, session_id)
    return Response(qr_png(data), media_type="image/png", headers=NO_STORE)


@router.get("/verifier/sessions/{session_id}/qr.svg", name="verifier_qr_svg")
def qr_image_svg(request: Request, session_id: str, session: DbSession) -> Response:
    data = _qr_data(request, session, session_id)
    return Response(qr_svg(data), media_type="image/svg+xml", headers=NO_STORE)


# --- the wallet side (OpenID4VP) ---------------------------------------------------------------


@router.get("/verifier/request/{session_id}", name="verifier_request_object")
async def serve_request_object(request: Request, session_id: str) -> Response:
    """RFC 9101 §5.2 request_uri: the Request Object; the session becomes `scanned`."""
    work = partial(_request_object, request, session_id)
    return await in_session(request, work)


def _request_object(request: Request, session_id: str, session: Session) -> Response:
    autocommit_on_server(session)  # pending → scanned is one UPDATE … RETURNING
    row = scan_session(session, session_id)
    if row is None:
        raise RequestObjectGone()
    token = request_object(verifier_config(request), row)
    session.commit()
    return Response(token, media_type=MEDIA_TYPE, headers=NO_STORE)


@router.post(
    "/verifier/response",
    name="verifier_response",
    openapi_extra=openapi.form_body(
        {"state": None, "vp_token": None, "error": None, "error_description": None}
    ),
)
async def response(request: Request, form: FormBody) -> JSONResponse:
    """OpenID4VP §8.2: 200 with a JSON object once the response has been processed."""
    return await in_session(request, partial(_response, request, form))


def _response(request: Request, form: dict[str, str] | None, session: Session) -> JSONResponse:
    if form is None:
        raise PresentationRejected(
            "the body must be application/x-www-form-urlencoded without repeated parameters"
        )
    # reads, and one write: the session's end (or its cancellation) with its audit entry, one
    # statement on PostgreSQL (`record_if`); a trusted issuer's keys refreshed on the way
    # are committed on their own (`trust._key_for`)
    autocommit_on_server(session)
    receive_response(session, keyring_of(request), verifier_config(request), form)
    session.commit()
    return JSONResponse({}, headers=NO_STORE)


# `/verifier/open` (the https universal link) is served by the built-in wallet:
# attestations/wallet/routes.py
