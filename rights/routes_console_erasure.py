"""The operator console's erasure requests (#16): /console/erasure lists every request with its
status and the platforms that must be told by hand; /console/erasure/{id} shows one and records
that a platform was told another way (`record_platform_handled`, as `kluis erasure handled`;
a POST with CSRF whose note must hold no personal data). Access as the rest of the console:
the operator role (`identity.page_operator`), a 404 for anyone else. Residents appear only as
the request's id; the note and the operator's reference go into the audit entry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from core import check_csrf, db_session, utcnow
from identity import NotAnOperator, console_page, operator_actor, page_operator
from keys import subject_keys_of
from rights import messages_console, messages_steward  # noqa: F401 (registers the texts)
from rights.errors import ErasureError, NoteRequired, NothingPending, NotOpen, ReasonLooksPersonal
from rights.lifecycle import erasure_deliveries, record_platform_handled
from rights.models import ErasureRequest
from rights.steward import erasure_overview, is_overdue

router: APIRouter = APIRouter(prefix="/console/erasure", tags=["console"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
FormStr = Annotated[str, Form(max_length=1024)]
ERASURE = "/console/erasure"
ERRORS = {
    NoteRequired: "console.erasure.error.note",
    ReasonLooksPersonal: "console.erasure.error.personal",
    NotOpen: "console.erasure.error.done",
    NothingPending: "console.erasure.error.done",
}


def _page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    return console_page(request, template, {"section": "erasure", **context}, status_code)


@router.get("")
def requests_page(request: Request, session: SessionDep) -> Response:
    operator = page_operator(request, session, ERASURE)
    if isinstance(operator, Response):
        return operator
    lines = erasure_overview(session, utcnow())
    return _page(request, "rights/console_erasure.html", {"lines": lines})


def _request_page(
    request: Request,
    session: Session,
    request_id: str,
    *,
    errors: dict[str, str] | None = None,
    done: str = "",
) -> Response:
    found = session.get(ErasureRequest, request_id) if len(request_id) <= 64 else None
    if found is None:
        raise NotAnOperator()  # the same 404 as an unknown path
    context = {
        "erasure": found,
        "platforms": erasure_deliveries(session, request_id),
        "overdue": is_overdue(found, utcnow()),
        "errors": errors or {},
        "done": done,
    }
    return _page(request, "rights/console_erasure_request.html", context, 400 if errors else 200)


@router.get("/{request_id}")
def request_page(
    request: Request, session: SessionDep, request_id: str, done: str = ""
) -> Response:
    operator = page_operator(request, session, f"{ERASURE}/{request_id}")
    if isinstance(operator, Response):
        return operator
    return _request_page(request, session, request_id, done="handled" if done else "")


@router.post("/{request_id}/handled")
def handled(
    request: Request,
    session: SessionDep,
    request_id: str,
    client_id: FormStr = "",
    note: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    """Record that `client_id` was told of this erasure another way."""
    check_csrf(request, {"csrf_token": csrf_token})
    operator = page_operator(request, session, f"{ERASURE}/{request_id}")
    if isinstance(operator, Response):
        return operator
    try:
        record_platform_handled(
            session,
            request_id=request_id,
            client_id=client_id,
            actor=operator_actor(session, subject_keys_of(request), operator),
            note=note,
        )
    except ErasureError as exc:
        session.rollback()
        key = ERRORS.get(type(exc), "console.erasure.error.long")
        return _request_page(request, session, request_id, errors={f"note-{client_id}": key})
    session.commit()
    return RedirectResponse(f"{ERASURE}/{request_id}?done=handled", 303)
