"""What the OpenID provider's routers share: the database session dependency, the
`Cache-Control` of token responses, the error page of requests that cannot be redirected,
and the cookie that binds a pending authorization request to the browser that started it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from core import csrf, db_session, render, token_hash

DbSession = Annotated[Session, Depends(db_session)]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def fatal_page(request: Request, message_key: str) -> Response:
    """The resident's error page, for requests that must not be redirected to the client."""
    return render(request, "oidc_error.html", {"message_key": message_key}, status_code=400)


def browser_binding(request: Request) -> str:
    """The hash of the browser's binding cookie (the CSRF cookie), creating one if needed;
    `with_binding_cookie` sets a created one on the response."""
    cookie = request.cookies.get(csrf.CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if cookie is None:
        cookie = csrf.new_cookie_value()
        request.state.new_csrf = cookie
    return token_hash(cookie)


def bound_to_browser(request: Request, binding: object) -> bool:
    """Whether a pending request's stored `binding` is this browser's cookie."""
    cookie = request.cookies.get(csrf.CSRF_COOKIE)
    return cookie is not None and token_hash(cookie) == binding


def with_binding_cookie(request: Request, response: Response) -> Response:
    new = getattr(request.state, "new_csrf", None)
    if new is not None:
        response.set_cookie(
            csrf.CSRF_COOKIE,
            new,
            httponly=True,
            samesite="lax",
            path="/",
            secure=request.app.state.templates.secure_cookies,
        )
    return response
