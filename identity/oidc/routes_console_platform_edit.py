"""The operator console's edit page of one platform (#16): /console/platforms/{client_id}/edit
changes its name and addresses (redirect URIs, post-logout URIs, back-channel logout URI,
events URI) through `edit_platform`, as `kluis clients update`. A bad value is named beside its
field and everything typed stays in the form; the change needs the CSRF token and the
operator's password again (a redirect URI decides where login codes go). Access by
`page_operator` alone. Included before routes_console_platforms, whose confirmation pages
answer /console/platforms/{client_id}/{action}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from core import check_csrf, db_session
from identity.accounts.errors import AccountError, LoginThrottled
from identity.accounts.operator import (
    NotAnOperator,
    confirm_again,
    console_page,
    operator_actor,
    page_operator,
    reconfirm_context,
)
from identity.oidc import messages_console  # noqa: F401 (registers the texts)
from identity.oidc.clients import get_client
from identity.oidc.models import Client
from identity.oidc.platform_edit import (
    PlatformEdit,
    Problem,
    current_edit,
    edit_platform,
    edit_problems,
)
from keys import subject_keys_of

router = APIRouter(prefix="/console/platforms", tags=["console"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
FormStr = Annotated[str, Form(max_length=1024)]
FormText = Annotated[str, Form(max_length=16384)]  # a list of addresses, one per line
PLATFORMS = "/console/platforms"


def _platform(session: Session, client_id: str) -> Client:
    client = get_client(session, client_id)
    if client is None:
        raise NotAnOperator()  # the same 404 as an unknown path
    return client


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _edit_page(
    request: Request,
    session: Session,
    operator: str,
    client: Client,
    edit: PlatformEdit,
    *,
    problems: dict[str, Problem] | None = None,
    error: AccountError | None = None,
) -> Response:
    reconfirming, status = reconfirm_context(session, operator, error)
    errors = {f: f"console.edit.error.{p.code}" for f, p in (problems or {}).items()}
    context = {
        "section": "platforms",
        "platform": {"client_id": client.client_id, "client_name": client.name},
        "sector": client.sector_identifier,
        "fixed_sector": client.sector_identifier_uri is not None,
        "edit": edit,
        "values": {f: p.value for f, p in (problems or {}).items() if p.value},
        **reconfirming,
    }
    if errors:
        context["errors"] = {**errors, **reconfirming["errors"]}
        status = 400
    response = console_page(request, "console/platform_edit.html", context, status)
    if isinstance(error, LoginThrottled):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@router.get("/{client_id}/edit")
def edit_form(request: Request, session: SessionDep, client_id: str) -> Response:
    operator = page_operator(request, session, f"{PLATFORMS}/{client_id}/edit")
    if isinstance(operator, Response):
        return operator
    client = _platform(session, client_id)
    return _edit_page(request, session, operator, client, current_edit(client))


@router.post("/{client_id}/edit")
def edit(
    request: Request,
    session: SessionDep,
    client_id: str,
    name: FormStr = "",
    redirect_uris: FormText = "",
    post_logout_redirect_uris: FormText = "",
    backchannel_logout_uri: FormStr = "",
    events_uri: FormStr = "",
    password: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    """Change the platform's name and addresses, as `kluis clients update`."""
    check_csrf(request, {"csrf_token": csrf_token})
    operator = page_operator(request, session, f"{PLATFORMS}/{client_id}/edit")
    if isinstance(operator, Response):
        return operator
    client = _platform(session, client_id)
    wanted = PlatformEdit(
        name=name.strip(),
        redirect_uris=_lines(redirect_uris),
        post_logout_redirect_uris=_lines(post_logout_redirect_uris),
        backchannel_logout_uri=backchannel_logout_uri.strip() or None,
        events_uri=events_uri.strip() or None,
    )
    loopback = not request.app.state.settings.production
    problems = edit_problems(client, wanted, allow_loopback_targets=loopback)
    if problems:  # named before the password is asked, so a typo costs no login attempt
        return _edit_page(request, session, operator, client, wanted, problems=problems)
    error = confirm_again(request, session, password)
    if error is not None:
        return _edit_page(request, session, operator, client, wanted, error=error)
    actor = operator_actor(session, subject_keys_of(request), operator)
    edit_platform(session, client, wanted, actor, allow_loopback_targets=loopback)
    session.commit()
    return RedirectResponse(f"{PLATFORMS}/{client_id}?done=updated", 303)
