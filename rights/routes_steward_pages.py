"""The steward pages: /steward (→ erasure overview), /steward/erasure, /steward/consents and
/steward/audit. Browser session with the steward role only; a visitor who is not logged in is
sent to the login page, a logged-in non-steward gets the 404 of an unknown path. Each view is
audited (`steward.read`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from core import db_session, page_language, render, utcnow, when
from identity import current_session, get_client, provider_of
from keys import subject_keys_of
from rights import messages_steward  # noqa: F401 (registers the page texts)
from rights.steward import EntryFilter, consent_overview, erasure_overview, list_entries
from rights.steward_access import Steward, audit_read, page_steward

router = APIRouter(prefix="/steward", tags=["steward"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
PAGE_SIZE = 100
_EVENT = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _steward(request: Request, session: Session, path: str) -> Steward | Response:
    if current_session(request, session) is None:
        return RedirectResponse("/login?" + urlencode({"return_to": path}, safe="/"), 303)
    return page_steward(request, session)


def _page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    response = render(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _read(request: Request, session: Session, steward: Steward, what: str, **kw: Any) -> None:
    audit_read(session, subject_keys_of(request), steward, what, kw)
    session.commit()


@router.get("")
def index(request: Request) -> Response:
    return RedirectResponse("/steward/erasure", 303)


@router.get("/erasure")
def erasure_page(request: Request, session: SessionDep) -> Response:
    steward = _steward(request, session, "/steward/erasure")
    if isinstance(steward, Response):
        return steward
    lines = erasure_overview(session, utcnow())
    _read(request, session, steward, "erasure.overview", count=len(lines))
    return _page(request, "rights/steward_erasure.html", {"lines": lines, "when": when})


@router.get("/consents")
def consents_page(request: Request, session: SessionDep) -> Response:
    steward = _steward(request, session, "/steward/consents")
    if isinstance(steward, Response):
        return steward
    counts = consent_overview(session)
    _read(request, session, steward, "consent.overview")
    clients = {c.client_id: get_client(session, c.client_id) for c in counts}
    names = {cid: client.name for cid, client in clients.items() if client is not None}
    claims = provider_of(request).claims
    lang = page_language(request)
    context = {
        "counts": counts,
        "names": names,
        "claim_label": lambda claim: claims.label(claim, lang),
    }
    return _page(request, "rights/steward_consents.html", context)


def _moment(value: str) -> dt.datetime | None:
    """A form time (`datetime-local`, read as UTC) or an ISO time with zone, in UTC;
    ValueError if `value` is neither, or lies outside what UTC can hold (year 1 at +01:00)."""
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value)
    if not moment.tzinfo:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError as exc:
        raise ValueError("outside the years UTC can hold") from exc


def _read_filters(
    form: dict[str, str],
) -> tuple[dict[str, dt.datetime | None], dict[str, str]]:
    """The times of the filters (`since`, `until`, in UTC), and the message key of each filter
    that is not well-formed, by field. The messages say what is expected and never repeat the
    value given."""
    errors = {}
    if form["event"] and not _EVENT.match(form["event"]):
        errors["event"] = "steward.filter.event.error"
    if form["subject"] and not _HEX64.match(form["subject"]):
        errors["subject"] = "steward.filter.subject.error"
    moments: dict[str, dt.datetime | None] = {}
    for name in ("since", "until"):
        try:
            moments[name] = _moment(form[name])
        except ValueError:
            errors[name] = "steward.filter.time.error"
    return moments, errors


@router.get("/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    event: str = "",
    subject: str = "",
    since: str = "",
    until: str = "",
    after: int | None = None,
) -> Response:
    """The filtered audit log. A malformed filter shows the form again, the filters kept and
    an error beside each wrong one (400), and reads nothing."""
    steward = _steward(request, session, "/steward/audit")
    if isinstance(steward, Response):
        return steward
    form = {"event": event, "subject": subject, "since": since, "until": until}
    moments, errors = _read_filters(form)
    if errors:
        context: dict[str, Any] = {"entries": [], "form": form, "errors": errors}
        return _page(request, "rights/steward_audit.html", context, status_code=400)
    flt = EntryFilter(
        event or None, subject or None, moments["since"], moments["until"], after, PAGE_SIZE
    )
    entries = list_entries(session, flt)
    _read(request, session, steward, "audit.entries", filters=flt.used(), count=len(entries))
    next_query = None
    if len(entries) == PAGE_SIZE:
        kept = {k: v for k, v in form.items() if v}
        next_query = urlencode({**kept, "after": entries[-1]["index"]})
    return _page(
        request,
        "rights/steward_audit.html",
        {"entries": entries, "form": form, "errors": {}, "next_query": next_query},
    )
