"""The resident's "delete my account": a confirmation page, then a POST with CSRF that runs
`execute_erasure`, ends the browser session and shows the request's reference and due date.
And "erase one detail" (`/account/erase-field`): the same for one field, the account stays."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from consent import (
    messages,  # noqa: F401 (registers the page texts)
    messages_steward,  # noqa: F401 (registers the page texts)
)
from consent.erasure import erasure_deliveries, execute_erasure
from consent.field_erasure import FIELDS, execute_field_erasure
from consent.models import ErasureRequest
from core.db import db_session
from core.errors import InvalidInput
from core.web import check_csrf, render
from identity.accounts.routes_account import when
from identity.accounts.sessions import clear_session_cookie, current_session
from identity.oidc.provider import Provider

router = APIRouter(tags=["consent"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
FormStr = Annotated[str, Form(max_length=256)]
DELETE_PATH = "/account/delete"


def _login(return_to: str) -> Response:
    return RedirectResponse(f"/login?return_to={return_to}", status_code=303)


@router.get(DELETE_PATH)
def confirm_page(request: Request, session: SessionDep) -> Response:
    if current_session(request, session) is None:
        return _login(DELETE_PATH)
    response = render(request, "consent/delete.html")
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post(DELETE_PATH)
def delete_account(
    request: Request, session: SessionDep, confirm: FormStr = "", csrf_token: FormStr = ""
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    browser = current_session(request, session)
    if browser is None:
        return _login(DELETE_PATH)
    if confirm != "yes":
        return RedirectResponse("/account", status_code=303)
    provider: Provider = request.app.state.oidc
    erasure = execute_erasure(
        session,
        provider,
        account_id=browser.account_id,
        requested_by="resident",
        actor="resident",
        accounts=request.app.state.accounts,
    )
    session.commit()
    response = RedirectResponse(f"/account/deleted?ref={erasure.id}", status_code=303)
    clear_session_cookie(response, secure=provider.config.issuer.startswith("https://"))
    return response


@router.get("/account/deleted")
def deleted_page(request: Request, session: SessionDep, ref: str = "") -> Response:
    erasure = session.get(ErasureRequest, ref) if 0 < len(ref) <= 32 else None
    if erasure is None:
        return RedirectResponse("/", status_code=303)
    return _done_page(
        request, session, erasure, "erasure.done.title", "erasure.done.body", link="/"
    )


def _done_page(
    request: Request,
    session: Session,
    erasure: ErasureRequest,
    title: str,
    body: str,
    *,
    link: str,
) -> Response:
    """What happened, by when the rest is done, and which platforms Kluis could not tell
    itself (the operator tells those), with a way on."""
    names = [p.name for p in erasure_deliveries(session, erasure.id) if p.manual]
    context = {
        "title": title,
        "body": body,
        "due": when(erasure.due_at, day_only=True).text,
        "ref": erasure.id,
        "manual": sorted(set(names)),
        "link": link,
        "link_text": "erasure.done.home" if link == "/" else "consent.back",
    }
    response = render(request, "consent/erasure_done.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- erasure of one field ----------------------------------------------------------------------
FIELD_PATH = "/account/erase-field"


@router.get(FIELD_PATH)
def field_page(request: Request, session: SessionDep) -> Response:
    if current_session(request, session) is None:
        return _login(FIELD_PATH)
    response = render(request, "consent/erase_field.html", {"fields": list(FIELDS)})
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post(FIELD_PATH)
def erase_field(
    request: Request, session: SessionDep, field: FormStr = "", csrf_token: FormStr = ""
) -> Response:
    """Erase one field of the resident's (name or an attestation type), tell the platforms."""
    check_csrf(request, {"csrf_token": csrf_token})
    browser = current_session(request, session)
    if browser is None:
        return _login(FIELD_PATH)
    if field not in FIELDS:
        raise InvalidInput(f"field must be one of: {', '.join(FIELDS)}")
    erasure = execute_field_erasure(
        session,
        request.app.state.oidc,
        account_id=browser.account_id,
        field=field,
        requested_by="resident",
        actor="resident",
    )
    session.commit()
    return _done_page(
        request, session, erasure, "field_erasure.title", "field_erasure.done", link="/account"
    )
