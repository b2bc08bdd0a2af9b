"""The operator console's platforms (#16): /console/platforms lists the relying parties and
adds one with a preset (the platform-side settings and the secret are shown once, on the page
that answers the POST); /console/platforms/{client_id} shows one, rotates its secret and
removes it; /console/outbox shows the deliveries to platforms pending or failing, per
platform (as `kluis clients outbox`). Rotating and removing need the operator's password
again (or a login of the last minutes), like the other irreversible actions. Every POST
carries the CSRF token; every change goes through the same audited functions as
`kluis clients` (identity.oidc.platforms).

Access is decided by `page_operator` alone: not logged in goes to the login page, anyone
without the operator role gets a 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from core import InvalidInput, check_csrf, db_session, page_language
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
from identity.oidc.clients import describe, get_client, list_clients
from identity.oidc.models import Client
from identity.oidc.platform_settings import instruction_steps, platform_settings
from identity.oidc.platforms import (
    add_platform,
    outbox_by_platform,
    platform_spec,
    remove_platform,
    rotate_platform_secret,
)
from identity.oidc.presets import PRESETS
from keys import subject_keys_of

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
FormStr = Annotated[str, Form(max_length=1024)]
PLATFORMS = "/console/platforms"
ACTIONS = {"rotate-secret": "rotate", "remove": "remove"}  # path -> the page's texts


def page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    return console_page(request, template, {"section": "platforms", **context}, status_code)


@router.get("")
def console_home(request: Request, session: SessionDep) -> Response:
    operator = page_operator(request, session, "/console")
    if isinstance(operator, Response):
        return operator
    return RedirectResponse(PLATFORMS, 303)


def _list_page(
    request: Request,
    session: Session,
    *,
    errors: dict[str, str] | None = None,
    detail: str = "",
    form: dict[str, str] | None = None,
    done: str = "",
) -> Response:
    context = {
        "platforms": [
            {**describe(c), "created_at_dt": c.created_at} for c in list_clients(session)
        ],
        "presets": sorted(PRESETS.values(), key=lambda p: p.platform.lower()),
        "errors": errors or {},
        "detail": detail,
        "form": form or {},
        "done": done,
    }
    return page(request, "console/platforms.html", context, 400 if errors else 200)


@router.get("/platforms")
def platforms_page(request: Request, session: SessionDep, done: str = "") -> Response:
    operator = page_operator(request, session, PLATFORMS)
    if isinstance(operator, Response):
        return operator
    return _list_page(request, session, done="removed" if done == "removed" else "")


@router.post("/platforms")
def add(
    request: Request,
    session: SessionDep,
    preset: FormStr = "",
    base_url: FormStr = "",
    name: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    """Add a platform with a preset, as `kluis clients add --preset … --base-url …`."""
    check_csrf(request, {"csrf_token": csrf_token})
    operator = page_operator(request, session, PLATFORMS)
    if isinstance(operator, Response):
        return operator
    form = {"preset": preset, "base_url": base_url.strip(), "name": name.strip()}
    errors = {}
    if preset not in PRESETS:
        errors["preset"] = "console.platforms.error.preset"
    if not form["base_url"]:
        errors["base_url"] = "console.platforms.error.base_url"
    if errors:
        return _list_page(request, session, errors=errors, form=form)
    given = {
        "name": form["name"] or None,
        "allow_loopback_targets": not request.app.state.settings.production,
    }
    try:
        spec = platform_spec(preset, form["base_url"], given)
        actor = operator_actor(session, subject_keys_of(request), operator)
        client, secret = add_platform(session, spec, actor, preset)
    except InvalidInput as exc:
        session.rollback()
        errors = {"base_url": "console.platforms.error.invalid"}
        return _list_page(request, session, errors=errors, detail=exc.detail, form=form)
    data = describe(client)
    settings = platform_settings(
        PRESETS[preset],
        issuer=request.app.state.settings.issuer,
        base_url=form["base_url"],
        client=data,
        secret=secret,
        lang=page_language(request),
    )
    session.commit()
    steps = instruction_steps(settings["instructions"])
    context = {"platform": data, "settings": settings, "steps": steps}
    return page(request, "console/platform_added.html", context, 201)


def _platform(session: Session, client_id: str) -> Client:
    client = get_client(session, client_id)
    if client is None:
        raise NotAnOperator()  # the same 404 as an unknown path
    return client


def _detail_page(
    request: Request,
    session: Session,
    operator: str,
    client: Client,
    *,
    action: str = "",
    error: AccountError | None = None,
    done: str = "",
) -> Response:
    reconfirming, status = reconfirm_context(session, operator, error)
    context = {
        "platform": describe(client),
        "has_secret": client.secret_hash is not None,
        "action": action,
        "done": "updated" if done == "updated" else "",
        **reconfirming,
    }
    template = "console/confirm.html" if action else "console/platform.html"
    response = page(request, template, context, status)
    if isinstance(error, LoginThrottled):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@router.get("/platforms/{client_id}")
def platform_page(
    request: Request, session: SessionDep, client_id: str, done: str = ""
) -> Response:
    operator = page_operator(request, session, f"{PLATFORMS}/{client_id}")
    if isinstance(operator, Response):
        return operator
    client = _platform(session, client_id)
    return _detail_page(request, session, operator, client, done=done)


@router.get("/platforms/{client_id}/{action}")
def confirm_page(request: Request, session: SessionDep, client_id: str, action: str) -> Response:
    """The confirmation of `rotate-secret` or `remove`: the password again."""
    operator = page_operator(request, session, f"{PLATFORMS}/{client_id}/{action}")
    if isinstance(operator, Response):
        return operator
    client = _platform(session, client_id)
    if action not in ACTIONS or (action == "rotate-secret" and client.secret_hash is None):
        raise NotAnOperator()
    return _detail_page(request, session, operator, client, action=ACTIONS[action])


@router.post("/platforms/{client_id}/rotate-secret")
def rotate(
    request: Request,
    session: SessionDep,
    client_id: str,
    password: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    """A new secret, shown once; the old one stops working at once."""
    check_csrf(request, {"csrf_token": csrf_token})
    operator = page_operator(request, session, f"{PLATFORMS}/{client_id}")
    if isinstance(operator, Response):
        return operator
    client = _platform(session, client_id)
    if client.secret_hash is None:
        raise InvalidInput("this platform does not authenticate with a secret")
    error = confirm_again(request, session, password)
    if error is not None:
        return _detail_page(request, session, operator, client, action="rotate", error=error)
    actor = operator_actor(session, subject_keys_of(request), operator)
    secret = rotate_platform_secret(session, client, actor)
    data = describe(client)
    session.commit()
    return page(request, "console/secret_rotated.html", {"platform": data, "secret": secret})


@router.post("/platforms/{client_id}/remove")
def remove(
    request: Request,
    session: SessionDep,
    client_id: str,
    password: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    """Remove the platform and everything issued to it."""
    check_csrf(request, {"csrf_token": csrf_token})
    operator = page_operator(request, session, f"{PLATFORMS}/{client_id}")
    if isinstance(operator, Response):
        return operator
    client = _platform(session, client_id)
    error = confirm_again(request, session, password)
    if error is not None:
        return _detail_page(request, session, operator, client, action="remove", error=error)
    remove_platform(session, client, operator_actor(session, subject_keys_of(request), operator))
    session.commit()
    return RedirectResponse(f"{PLATFORMS}?done=removed", 303)


@router.get("/outbox")
def outbox_page(request: Request, session: SessionDep) -> Response:
    operator = page_operator(request, session, "/console/outbox")
    if isinstance(operator, Response):
        return operator
    context = {"lines": outbox_by_platform(session), "section": "outbox"}
    return page(request, "console/outbox.html", context)
