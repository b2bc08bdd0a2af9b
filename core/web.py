"""Server-rendered pages: one Jinja environment over every package's `templates/` folder,
language negotiation, CSRF tokens, and the `render` helper the routers call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from core import csrf, i18n
from core.errors import Forbidden
from core.logging import request_id_var

SESSION_COOKIE = "kluis_session"  # the resident's browser session (identity.accounts.sessions)


class Templates:
    def __init__(self, packages: Iterable[str], csrf_key: bytes, secure_cookies: bool) -> None:
        loaders = [PackageLoader(pkg, "templates") for pkg in packages]
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(["html", "xml"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.csrf_key = csrf_key
        self.secure_cookies = secure_cookies


def page_language(request: Request) -> str:
    return i18n.negotiate(
        request.query_params.get("lang"),
        request.cookies.get(i18n.LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def language_switch(request: Request, lang: str, status_code: int) -> str | None:
    """The header's link to this page in `lang`, as a relative reference: this address with
    every query parameter kept and `lang` set (a `return_to`, an erasure's reference, a
    status message go along). An error page's link has `lang` alone: it repeats nothing of
    a request that was refused (an unregistered redirect URI, say). None for the answer to
    a form (POST): a GET of that address would lose what the answer showed, at times only
    once (a client secret, a code)."""
    if request.method not in ("GET", "HEAD"):
        return None
    if status_code >= 400:
        return "?" + urlencode([("lang", lang)])
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return "?" + urlencode([*query, ("lang", lang)])


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    templates: Templates = request.app.state.templates
    lang = page_language(request)
    cookie_value = request.cookies.get(csrf.CSRF_COOKIE) or getattr(
        request.state, "new_csrf_cookie", None
    )
    new_cookie = cookie_value is None
    if cookie_value is None:
        cookie_value = csrf.new_cookie_value()
        request.state.new_csrf_cookie = cookie_value

    other_lang = "en" if lang == "nl" else "nl"

    def t(key: str, **params: object) -> str:
        return i18n.translate(lang, key, **params)

    html = templates.env.get_template(template).render(
        request=request,
        lang=lang,
        other_lang=other_lang,
        # a page that shows something once (`shown_once`) has no switch: reloading its
        # address would show it no more (a callback's one-time code, say)
        switch_language=None
        if (context or {}).get("shown_once")
        else language_switch(request, other_lang, status_code),
        t=t,
        csrf_field=csrf.CSRF_FIELD,
        csrf_token=csrf.token_for(templates.csrf_key, cookie_value),
        request_id=request_id_var.get(),
        # the header's account and logout links; a stale cookie only leads to the login page
        signed_in=SESSION_COOKIE in request.cookies,
        **(context or {}),
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Language"] = lang
    if new_cookie:
        response.set_cookie(
            csrf.CSRF_COOKIE,
            cookie_value,
            httponly=True,
            samesite="lax",
            secure=templates.secure_cookies,
            path="/",
        )
    if request.query_params.get("lang") in i18n.SUPPORTED:
        response.set_cookie(i18n.LANG_COOKIE, lang, samesite="lax", path="/", max_age=31536000)
    return response


def check_csrf(request: Request, form: Mapping[str, Any]) -> None:
    """Raise `Forbidden` unless the form's CSRF token matches the browser's cookie."""
    templates: Templates = request.app.state.templates
    submitted = form.get(csrf.CSRF_FIELD)
    if not csrf.is_valid(
        templates.csrf_key,
        request.cookies.get(csrf.CSRF_COOKIE),
        submitted if isinstance(submitted, str) else None,
    ):
        raise Forbidden("The form has expired or did not come from this site. Please try again.")
