"""The steward's peer-vouching pages (issue 10): /steward/vouching (open reports of fake
profiles), /steward/vouching/reports/{id} (one report, and the decision: fake or dismiss, a POST
with CSRF that needs the steward's password again, or a login of the last minutes, like the
other irreversible actions) and /steward/vouching/graph (warning signs in the confirmation
graph). Access as the other steward pages: the steward role, by browser session; a visitor
who is not logged in goes to the login page, anyone else gets a 404. Accounts appear only as
opaque references; every view is audited (`steward.read`), every decision by the domain."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from attestations import vouching
from core import InvalidInput, check_csrf, db_session, render, utcnow, when
from identity import (
    AccountError,
    LoginThrottled,
    current_session,
    get_account,
    get_accounts,
    provider_of,
    reconfirm_errors,
    reconfirmed,
)
from keys import subject_keys_of
from rights import messages, messages_steward, messages_vouching_steward  # noqa: F401
from rights.steward_access import NotAvailable, Steward, audit_read, page_steward
from rights.vouching_steward import decide_report, graph_view, report_view, report_views
from rights.web import vouching_of

router = APIRouter(prefix="/steward/vouching", tags=["steward"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
FormStr = Annotated[str, Form(max_length=256)]
DECISIONS = {"fake": True, "dismiss": False}


def _steward(request: Request, session: Session, path: str) -> Steward | Response:
    if current_session(request, session) is None:
        return RedirectResponse("/login?" + urlencode({"return_to": path}, safe="/"), 303)
    return page_steward(request, session)


def _page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    response = render(request, template, {**context, "when": when}, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _read(request: Request, session: Session, steward: Steward, what: str, **kw: Any) -> None:
    audit_read(session, subject_keys_of(request), steward, what, kw)
    session.commit()


@router.get("")
def reports_page(request: Request, session: SessionDep) -> Response:
    steward = _steward(request, session, "/steward/vouching")
    if isinstance(steward, Response):
        return steward
    views = report_views(session, subject_keys_of(request))
    _read(request, session, steward, "vouching.reports", count=len(views))
    return _page(request, "rights/steward_vouching.html", {"reports": views})


def _report_page(
    request: Request,
    session: Session,
    steward: Steward,
    report_id: str,
    error: AccountError | None = None,
    decision: str = "",
) -> Response:
    view = report_view(session, subject_keys_of(request), report_id)
    if view is None:
        raise NotAvailable()
    account = get_account(session, steward.account_id)
    errors = reconfirm_errors(
        error,
        wrong_message="steward.vouching.error.password",
        stale_message="steward.vouching.error.fresh_login",
    )
    if not errors and decision == "missing":
        errors = {"decision": "steward.vouching.error.decision"}
    context = {
        "report": view,
        "needs_password": account is not None and account.password_hash is not None,
        "errors": errors,
    }
    status = 200 if not errors else 429 if isinstance(error, LoginThrottled) else 400
    response = _page(request, "rights/steward_vouching_report.html", context, status)
    if isinstance(error, LoginThrottled):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@router.get("/reports/{report_id}")
def report_page(request: Request, session: SessionDep, report_id: str) -> Response:
    steward = _steward(request, session, f"/steward/vouching/reports/{report_id}")
    if isinstance(steward, Response):
        return steward
    if len(report_id) > 32:
        raise NotAvailable()
    response = _report_page(request, session, steward, report_id)
    _read(request, session, steward, "vouching.report", report=report_id)
    return response


@router.post("/reports/{report_id}")
def decide(
    request: Request,
    session: SessionDep,
    report_id: str,
    decision: FormStr = "",
    password: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    """Decide the reported account: `fake` or `dismiss`."""
    check_csrf(request, {"csrf_token": csrf_token})
    steward = _steward(request, session, f"/steward/vouching/reports/{report_id}")
    if isinstance(steward, Response):
        return steward
    if len(report_id) > 32:
        raise NotAvailable()
    if decision not in DECISIONS:
        if decision:
            raise InvalidInput("decision must be fake or dismiss")
        return _report_page(request, session, steward, report_id, decision="missing")
    browser = current_session(request, session)
    assert browser is not None  # page_steward found it
    error = reconfirmed(request, session, browser, password)
    if error is not None:
        return _report_page(request, session, steward, report_id, error)
    try:
        outcome = decide_report(
            session,
            provider_of(request),
            vouching_of(request),
            report_id=report_id,
            steward_id=steward.account_id,
            fake=DECISIONS[decision],
            mailer=get_accounts(request).mailer,
        )
    except vouching.ReportNotFound:
        raise NotAvailable() from None
    session.commit()
    return _page(request, "rights/steward_vouching_decided.html", {"outcome": outcome})


@router.get("/graph")
def graph_page(request: Request, session: SessionDep) -> Response:
    steward = _steward(request, session, "/steward/vouching/graph")
    if isinstance(steward, Response):
        return steward
    view = graph_view(session, subject_keys_of(request), vouching_of(request), utcnow())
    _read(request, session, steward, "vouching.graph", signs=view.counts)
    return _page(request, "rights/steward_vouching_graph.html", {"graph": view})
