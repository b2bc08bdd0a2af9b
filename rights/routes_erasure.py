"""The resident's "delete my account": a confirmation page, then a POST with CSRF that runs
`execute_erasure`, ends the browser session and shows the request's reference and due date.
And "erase one detail" (`/account/erase-field`): the same for one field, the account stays."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from consent import consents_of
from core import check_csrf, db_session, page_language, render, when
from identity import (
    AccountError,
    BrowserSession,
    LoginThrottled,
    clear_session_cookie,
    current_session,
    errors_of,
    get_account,
    get_accounts,
    get_client,
    provider_of,
    reconfirmed,
)
from rights import messages, messages_steward  # noqa: F401 (registers the page texts)
from rights.erasure import execute_erasure
from rights.errors import UnknownField
from rights.field_erasure import FIELDS, execute_field_erasure, fields_held, received
from rights.lifecycle import erasure_deliveries
from rights.models import ErasureRequest
from rights.web import tombstones_of, vouching_of

router = APIRouter(tags=["consent"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
FormStr = Annotated[str, Form(max_length=256)]
DELETE_PATH = "/account/delete"


def _login(return_to: str) -> Response:
    return RedirectResponse(f"/login?return_to={return_to}", status_code=303)


def _names(session: Session, client_ids: Iterable[str]) -> list[str]:
    clients = (get_client(session, c) for c in client_ids)
    return sorted({c.name for c in clients if c is not None}, key=str.lower)


def _confirm_page(
    request: Request,
    session: Session,
    browser: BrowserSession,
    template: str,
    context: dict[str, object],
    error: AccountError | None = None,
) -> Response:
    """A page that shows what will happen and asks for the password (or says a fresh login
    is needed), with the error of a refused attempt; nothing has been erased then."""
    account = get_account(session, browser.account_id)
    full = {
        **context,
        "needs_password": account is not None and account.password_hash is not None,
        "errors": errors_of(error) if error is not None else {},
    }
    status = 200 if error is None else 429 if isinstance(error, LoginThrottled) else 400
    response = render(request, template, full, status_code=status)
    if isinstance(error, LoginThrottled):
        response.headers["Retry-After"] = str(error.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(
    request: Request,
    session: Session,
    browser: BrowserSession,
    password: str,
    template: str,
    context_of: Callable[[Session, str], dict[str, object]],
) -> Response | None:
    """None if the resident confirmed who they are (`reconfirm`); else the confirmation page
    again with the reason, nothing erased."""
    error = reconfirmed(request, session, browser, password)
    if error is None:
        return None
    context = context_of(session, browser.account_id)
    return _confirm_page(request, session, browser, template, context, error)


def _delete_context(session: Session, account_id: str) -> dict[str, object]:
    return {"platforms": _names(session, consents_of(session, account_id))}


@router.get(DELETE_PATH)
def confirm_page(request: Request, session: SessionDep) -> Response:
    browser = current_session(request, session)
    if browser is None:
        return _login(DELETE_PATH)
    context = _delete_context(session, browser.account_id)
    return _confirm_page(request, session, browser, "rights/delete.html", context)


@router.post(DELETE_PATH)
def delete_account(
    request: Request,
    session: SessionDep,
    confirm: FormStr = "",
    password: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    browser = current_session(request, session)
    if browser is None:
        return _login(DELETE_PATH)
    if confirm != "yes":
        return RedirectResponse("/account", status_code=303)
    refused = _refused(request, session, browser, password, "rights/delete.html", _delete_context)
    if refused is not None:
        return refused
    provider = provider_of(request)
    erasure = execute_erasure(
        session,
        provider,
        account_id=browser.account_id,
        requested_by="resident",
        actor="resident",
        accounts=get_accounts(request),
        tombstones=tombstones_of(request),
        vouching_config=vouching_of(request),
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
        "due": when(erasure.due_at, day_only=True, lang=page_language(request)).text,
        "ref": erasure.id,
        "manual": sorted(set(names)),
        "link": link,
        "link_text": "erasure.done.home" if link == "/" else "consent.back",
    }
    response = render(request, "rights/erasure_done.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- erasure of one field ----------------------------------------------------------------------
FIELD_PATH = "/account/erase-field"


def _field_context(session: Session, account_id: str) -> dict[str, object]:
    """The fields the resident has, each with the platforms that received it."""
    account = get_account(session, account_id)
    held = fields_held(session, account) if account is not None else []
    return {
        "fields": [(f, _names(session, received(session, account_id, f))) for f in held],
    }


@router.get(FIELD_PATH)
def field_page(request: Request, session: SessionDep) -> Response:
    browser = current_session(request, session)
    if browser is None:
        return _login(FIELD_PATH)
    context = _field_context(session, browser.account_id)
    return _confirm_page(request, session, browser, "rights/erase_field.html", context)


@router.post(FIELD_PATH)
def erase_field(
    request: Request,
    session: SessionDep,
    field: FormStr = "",
    password: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    """Erase one field of the resident's (name or an attestation type), tell the platforms."""
    check_csrf(request, {"csrf_token": csrf_token})
    browser = current_session(request, session)
    if browser is None:
        return _login(FIELD_PATH)
    if field not in FIELDS:
        raise UnknownField(tuple(FIELDS))
    template = "rights/erase_field.html"
    refused = _refused(request, session, browser, password, template, _field_context)
    if refused is not None:
        return refused
    erasure = execute_field_erasure(
        session,
        provider_of(request),
        account_id=browser.account_id,
        field=field,
        requested_by="resident",
        actor="resident",
        tombstones=tombstones_of(request),
    )
    session.commit()
    return _done_page(
        request, session, erasure, "field_erasure.title", "field_erasure.done", link="/account"
    )
