"""The verification widget for platforms (`widget` has the domain and its checks).

- `GET /widget/kluis-verify.js` and `/widget/kluis-verify.css`: the script a platform's page
  includes, and its styles (no build step; the texts come from the catalogue when served).
- `GET /widget/sessions/{id}?token=…` (`&wait=SECONDS` long-polls) and
  `GET /widget/sessions/{id}/events?token=…` (server-sent events): the session's state and
  the pairing code, never the result. Readable cross-origin only by the platform's own
  origins (CORS without credentials); any other page's `Origin` is refused.
- `GET /verify/{id}?token=…`: the hosted page (for platforms that redirect or open a popup).
  The token moves into a cookie scoped to the page's path, so the address bar, the history
  and the language link no longer carry it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from attestations.verifier import messages_widget
from attestations.verifier.config import VerifierConfig
from attestations.verifier.errors import InvalidSessionRequest, OriginNotAllowed, SessionNotFound
from attestations.verifier.models import VerifierSession
from attestations.verifier.session import OPEN, effective_status
from attestations.verifier.waiting import change_events, request_listener, wait_for_change
from attestations.verifier.wakeup import Listener
from attestations.verifier.widget import (
    allowed_origins,
    origin_of,
    widget_session,
    widget_status,
)
from attestations.web import verifier_config
from core import Database, database_of, db_session, i18n, openapi, render
from identity import get_client, message_page, see_other

# In the API reference (/api/docs): platforms put these on their pages (docs/platform-api.md).
router = APIRouter(tags=["verification widget"])
DbSession = Annotated[Session, Depends(db_session)]
STATIC = Path(__file__).resolve().parent / "static"
NO_STORE = {"Cache-Control": "no-store", "Vary": "Origin"}
ASSET_HEADERS = {
    "Cache-Control": "public, max-age=300",
    # the platform's page loads these from Kluis's origin
    "Cross-Origin-Resource-Policy": "cross-origin",
}
MAX_WAIT_SECONDS = 30
VERIFY_COOKIE = "kluis_verify"
TEXTS_MARK = "/*KLUIS_TEXTS*/{}"
TOKEN = {"type": "string", "description": "The widget token of the session's create response."}
WAIT = {"type": "number", "minimum": 0, "maximum": MAX_WAIT_SECONDS}
STATE = {
    "type": "object",
    "properties": {
        "status": {"type": "string"},
        "pairing_code": {"type": "string"},
        "qr_svg_url": {"type": "string", "format": "uri"},
        "universal_link": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time"},
    },
    "required": ["status", "qr_svg_url", "universal_link", "expires_at"],
}


def _answers(media_type: str, description: str, schema: dict[str, Any] | None = None) -> Any:
    """The 200 answer of a route that builds its own response (not JSON from a model)."""
    content = {media_type: {"schema": schema or {"type": "string"}}}
    return {200: {"description": description, "content": content}}


@functools.cache
def _script() -> str:
    """The widget script with the catalogue's texts in both languages put in."""
    texts = {
        lang: {
            key.rsplit("widget.", 1)[1]: i18n.translate(lang, key)
            for key in messages_widget.WIDGET_KEYS
        }
        for lang in i18n.SUPPORTED
    }
    source = (STATIC / "kluis-verify.js").read_text()
    assert TEXTS_MARK in source
    return source.replace(TEXTS_MARK, json.dumps(texts, ensure_ascii=False))


@router.get(
    "/widget/kluis-verify.js",
    response_class=Response,
    responses=_answers("text/javascript", "The widget script."),
)
def widget_script() -> Response:
    """The verification widget's script: a platform's page includes it and places a
    `<kluis-verify>` element with the session's status URL and widget token; it shows the QR
    code, the pairing step and the live status, in Dutch or English. No third-party code."""
    return Response(_script(), media_type="text/javascript; charset=utf-8", headers=ASSET_HEADERS)


@router.get(
    "/widget/kluis-verify.css",
    response_class=Response,
    responses=_answers("text/css", "The widget's styles."),
)
def widget_styles() -> Response:
    """The widget's styles, for a page that wants them from Kluis."""
    css = (STATIC / "kluis-verify.css").read_text()
    return Response(css, media_type="text/css; charset=utf-8", headers=ASSET_HEADERS)


# --- the session's state, for the widget ------------------------------------------------------


def _cors(
    request: Request, session: Session, config: VerifierConfig, row: VerifierSession
) -> dict[str, str]:
    """CORS for a page that sent an `Origin`: Kluis's own pages and the platform's own
    origins may read the answer (no credentials); any other origin is refused outright, so
    it learns nothing and starts no stream."""
    origin = request.headers.get("origin")
    if origin is None:
        return {}
    if origin == origin_of(config.issuer) or origin in allowed_origins(session, row):
        return {"Access-Control-Allow-Origin": origin}
    raise OriginNotAllowed("this page's origin is not one of the platform's registered origins")


def _links(config: VerifierConfig, row: VerifierSession) -> dict[str, str]:
    return {
        "qr_svg_url": f"{config.status_url(row.id)}/qr.svg",
        "universal_link": config.universal_link(row.id),
        "expires_at": row.expires_at.isoformat().replace("+00:00", "Z"),
    }


def _read(database: Database, session_id: str) -> dict[str, Any] | None:
    """The state as the widget sees it, in its own short transaction; None once purged."""
    with database.session() as session:
        row = session.get(VerifierSession, session_id)
        if row is None:
            return None
        return widget_status(session, row, effective_status(row))


def _wait_seconds(request: Request) -> float:
    raw = request.query_params.get("wait", "0")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_WAIT_SECONDS:
        raise InvalidSessionRequest(f"wait must be 0 to {MAX_WAIT_SECONDS} seconds")
    return value


async def _long_poll(
    read: Any, session_id: str, wait: float, listener: Listener | None, links: dict[str, str]
) -> AsyncIterator[str]:
    body = await wait_for_change(read, session_id, wait, listener)
    yield json.dumps({**(body or {"status": "expired"}), **links})


@router.get(
    "/widget/sessions/{session_id}",
    name="verifier_widget_status",
    response_class=Response,
    responses=_answers("application/json", "The session's state.", STATE),
    openapi_extra=openapi.query({"token": TOKEN, "wait": WAIT}, ["token"]),
)
def widget_state(request: Request, session_id: str, session: DbSession) -> Response:
    """The session's state as the widget shows it: `{status, pairing_code?, qr_svg_url,
    universal_link, expires_at}`, never the result (the platform reads that with its own
    credentials). `wait=SECONDS` (up to 30) answers when the state changes (long-poll).
    Readable cross-origin by the platform's registered origins only."""
    config = verifier_config(request)
    row = widget_session(session, config, session_id, request.query_params.get("token"))
    headers = {**NO_STORE, **_cors(request, session, config, row)}
    links = _links(config, row)
    wait = _wait_seconds(request)
    if not wait:
        body = widget_status(session, row, effective_status(row))
        session.commit()
        return JSONResponse({**body, **links}, headers=headers)
    session.close()  # each check below opens its own short transaction
    read = functools.partial(_read, database_of(request), session_id)
    listener = request_listener(request)
    return StreamingResponse(
        _long_poll(read, session_id, wait, listener, links),
        media_type="application/json",
        headers=headers,
    )


@router.get(
    "/widget/sessions/{session_id}/events",
    name="verifier_widget_events",
    response_class=Response,
    responses=_answers("text/event-stream", "One `status` event per change."),
    openapi_extra=openapi.query({"token": TOKEN}, ["token"]),
)
def widget_events(request: Request, session_id: str, session: DbSession) -> Response:
    """Server-sent events: one `status` event (`{status, pairing_code?}`) per change, until
    the session ends. Readable cross-origin by the platform's registered origins only."""
    config = verifier_config(request)
    row = widget_session(session, config, session_id, request.query_params.get("token"))
    headers = {**NO_STORE, **_cors(request, session, config, row), "X-Accel-Buffering": "no"}
    limit = max(0.0, (row.expires_at - row.created_at).total_seconds())
    session.close()
    read = functools.partial(_read, database_of(request), session_id)
    return StreamingResponse(
        change_events(request, read, session_id, limit, request_listener(request)),
        media_type="text/event-stream",
        headers=headers,
    )


# --- the hosted page -------------------------------------------------------------------------


def _ended(request: Request) -> Response:
    response = message_page(request, "verify.ended.title", "verify.ended.body", status_code=404)
    response.headers.update(NO_STORE)
    return response


def _page_path(session_id: str, request: Request) -> str:
    lang = request.query_params.get("lang")
    return f"/verify/{session_id}" + (f"?{urlencode({'lang': lang})}" if lang else "")


def _keep_token(
    request: Request, config: VerifierConfig, row: VerifierSession, token: str
) -> Response:
    response = see_other(_page_path(row.id, request))
    response.set_cookie(
        VERIFY_COOKIE,
        token,
        max_age=max(60, int((row.expires_at - row.created_at).total_seconds())),
        path=f"/verify/{row.id}",
        httponly=True,
        samesite="lax",  # it arrives by a redirect from the platform's site
        secure=config.issuer.startswith("https://"),
    )
    response.headers.update(NO_STORE)
    return response


@router.get(
    "/verify/{session_id}",
    name="verifier_widget_page",
    response_class=Response,
    responses={
        **_answers("text/html", "The hosted verification page."),
        303: {"description": "The token was moved into a cookie scoped to the page."},
        404: {"description": "The session has ended or the token is wrong (a page saying so)."},
    },
    openapi_extra=openapi.query({"token": TOKEN}),
)
def verify_page(request: Request, session_id: str, session: DbSession) -> Response:
    """The hosted verification page, for platforms that redirect residents to Kluis or open it
    in a popup: the QR code, the pairing step and the live status, then back to the platform's
    `return_uri`. The first visit carries `token`; Kluis moves it into a cookie and redirects,
    so the address bar and the history do not keep it."""
    config = verifier_config(request)
    given = request.query_params.get("token")
    token = given if given is not None else request.cookies.get(VERIFY_COOKIE)
    try:
        row = widget_session(session, config, session_id, token)
    except SessionNotFound:
        return _ended(request)
    if given is not None:  # from the platform: keep it in a cookie, out of the address bar
        return _keep_token(request, config, row, given)
    status = effective_status(row)
    client = get_client(session, row.client_id) if row.client_id is not None else None
    context = {
        "session_id": row.id,
        "token": token,
        "issuer": config.issuer,
        "status": status,
        "open": status in OPEN,
        "pairing_code": widget_status(session, row, status).get("pairing_code"),
        "qr_svg_url": f"/verifier/sessions/{row.id}/qr.svg",
        "universal_link": config.universal_link(row.id),
        "platform": client.name if client is not None else "",
        "purpose": row.purpose,
        "return_uri": row.return_uri,
    }
    session.commit()
    response = render(request, "verifier/verify.html", context)
    response.headers.update(NO_STORE)
    return response
