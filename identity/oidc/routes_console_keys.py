"""The operator console's signing keys (#16): /console/keys shows every key's lifecycle state
(published, active, retired, removed), as `kluis keys list`, and rotates one algorithm's key
(a POST with CSRF that needs the operator's password again, or a login of the last minutes)
through `rotate_signing_key`, as `kluis keys rotate`: audited, staged (the new key is published
before it signs). Access by `page_operator` alone."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from core import InvalidInput, check_csrf, db_session
from identity.accounts.errors import AccountError, LoginThrottled
from identity.accounts.operator import (
    confirm_again,
    console_page,
    operator_actor,
    page_operator,
    reconfirm_context,
)
from identity.oidc import messages_console  # noqa: F401 (registers the texts)
from identity.oidc.signing_keys import PUBLISH_DELAY, rotate_signing_key
from keys import SUPPORTED_ALGS, keyring_of, subject_keys_of

router = APIRouter(prefix="/console/keys", tags=["console"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
FormStr = Annotated[str, Form(max_length=1024)]
KEYS = "/console/keys"


def _keys_page(
    request: Request,
    session: Session,
    operator: str,
    *,
    error: AccountError | None = None,
    done: bool = False,
    alg: str = SUPPORTED_ALGS[0],
) -> Response:
    reconfirming, status = reconfirm_context(session, operator, error)
    context: dict[str, Any] = {
        "section": "keys",
        "keys": keyring_of(request).statuses(session),
        "algs": SUPPORTED_ALGS,
        "chosen_alg": alg,  # kept when the form comes back, so a retry rotates the same key
        "delay_minutes": int(PUBLISH_DELAY.total_seconds() // 60),
        "done": done,
        **reconfirming,
    }
    response = console_page(request, "console/keys.html", context, status)
    if isinstance(error, LoginThrottled):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@router.get("")
def keys_page(request: Request, session: SessionDep, done: str = "") -> Response:
    operator = page_operator(request, session, KEYS)
    if isinstance(operator, Response):
        return operator
    return _keys_page(request, session, operator, done=done == "rotated")


@router.post("/rotate")
def rotate(
    request: Request,
    session: SessionDep,
    alg: FormStr = "",
    password: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    """Publish a new key of `alg`; it signs once the publish delay has passed."""
    check_csrf(request, {"csrf_token": csrf_token})
    operator = page_operator(request, session, KEYS)
    if isinstance(operator, Response):
        return operator
    if alg not in SUPPORTED_ALGS:
        raise InvalidInput(f"alg must be one of {', '.join(SUPPORTED_ALGS)}")
    error = confirm_again(request, session, password)
    if error is not None:
        return _keys_page(request, session, operator, error=error, alg=alg)
    actor = operator_actor(session, subject_keys_of(request), operator)
    rotate_signing_key(session, keyring_of(request), alg, actor)
    session.commit()
    return RedirectResponse(f"{KEYS}?done=rotated", 303)
