"""The browser half of the Python relying-party harnesses: walk an OP's server-rendered login,
consent and logout pages over plain HTTP (httpx, its cookie jar, no automatic redirects), the
way a browser without JavaScript would. The same logic in JavaScript is tests/e2e/node/forms.mjs.

Kluis's form contract: a ``form#login-form`` with inputs ``email``, ``password`` and hidden
``csrf_token`` (and ``return_to``); a ``form#consent-form`` with one checkbox ``claims`` per claim,
hidden inputs and a submit button ``name="decision" value="allow"`` (or ``deny``). Hidden inputs
are copied verbatim. The reference oidc-provider (bench/oidc_flow/node) serves the same forms.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin

import httpx

MAX_STEPS = 20
CONFIRM_VALUES = re.compile(
    r"^(yes|true|1|confirm|logout|log.?out|sign.?out|allow|ja|uitloggen|afmelden)$", re.I
)
LOGOUT_FORM_ID = re.compile(r"log.?out|sign.?out|end.?session", re.I)


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


class FlowError(Exception):
    """A step of the browser flow went somewhere the contract does not allow."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str | None = None,
        page: str | None = None,
        page_kind: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.url = url
        self.page = page
        self.page_kind = page_kind

    def details(self) -> dict[str, Any]:
        out = {"status": self.status, "url": self.url, "page": self.page}
        out["page_kind"] = self.page_kind
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    value: str
    checked: bool = False
    disabled: bool = False


@dataclass
class Form:
    id: str | None
    method: str
    action: str
    inputs: list[Field] = field(default_factory=list)
    buttons: list[Field] = field(default_factory=list)

    def hidden(self) -> list[tuple[str, str]]:
        # Copied verbatim; disabled controls are never submitted (as in browsers).
        return [
            (f.name, f.value)
            for f in self.inputs
            if f.type == "hidden" and f.name and not f.disabled
        ]

    def looks_like_login(self) -> bool:
        names = {f.name for f in self.inputs}
        return {"email", "password"} <= names


@dataclass(frozen=True)
class Submission:
    method: str
    url: str
    fields: list[tuple[str, str]] | None = None


class _FormParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.bound: list[tuple[str, str, Field]] = []  # (form id, tag, field) for form="id"
        self.text: list[str] = []
        self.in_button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v if v is not None else "" for k, v in attrs}
        if tag == "form":
            action = urljoin(self.page_url, a.get("action") or self.page_url)
            self.current = Form(a.get("id"), (a.get("method") or "get").upper(), action)
            self.forms.append(self.current)
        elif tag in ("input", "button"):
            default = "submit" if tag == "button" else "text"
            kind = (a.get("type") or default).lower()
            value = a.get("value", "on" if kind == "checkbox" else "")
            control = Field(a.get("name", ""), kind, value, "checked" in a, "disabled" in a)
            if a.get("form"):
                self.bound.append((a["form"], tag, control))
            elif self.current is not None:
                self._add(self.current, tag, control)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @staticmethod
    def _add(form: Form, tag: str, control: Field) -> None:
        if control.type == "submit":
            form.buttons.append(control)
        elif tag == "input":
            form.inputs.append(control)

    def close(self) -> None:
        super().close()
        by_id = {form.id: form for form in self.forms if form.id}
        for form_id, tag, control in self.bound:
            if form_id in by_id:
                self._add(by_id[form_id], tag, control)


def parse_forms(html: str, page_url: str) -> list[Form]:
    """Every form on the page, including controls bound to it from outside with form="id"."""
    parser = _FormParser(page_url)
    parser.feed(html)
    parser.close()
    return parser.forms


def page_text(html: str, limit: int = 300) -> str:
    parser = _FormParser("about:blank")
    parser.feed(html)
    return " ".join(" ".join(parser.text).split())[:limit]


def login_submission(form: Form, email: str, password: str) -> Submission:
    names = {f.name for f in form.inputs}
    for required in ("email", "password", "csrf_token"):
        if required not in names:
            raise FlowError(f"login form has no input named {required}")
    fields = [*form.hidden(), ("email", email), ("password", password)]
    named = [b for b in form.buttons if b.name]
    if named:
        fields.append((named[0].name, named[0].value))
    return Submission(form.method, form.action, fields)


def consent_submission(
    form: Form, claims_to_allow: Sequence[str] | None = None, decision: str = "allow"
) -> tuple[Submission, dict[str, list[str]]]:
    """Tick exactly ``claims_to_allow`` (None keeps the page's own ticks) and press ``decision``.

    A disabled, ticked box is a claim the resident cannot refuse (Kluis sends it as a hidden
    input): it is reported as submitted.
    """
    boxes = [f for f in form.inputs if f.type == "checkbox" and f.name == "claims"]
    offered = list(dict.fromkeys(b.value for b in boxes))
    choosable = [b for b in boxes if not b.disabled]
    if claims_to_allow is None:
        ticked = [b.value for b in choosable if b.checked]
    else:
        ticked = [b.value for b in choosable if b.value in claims_to_allow]
    if not any(b.name == "decision" and b.value == decision for b in form.buttons):
        raise FlowError(f"consent form has no button decision={decision}")
    fields = [*form.hidden(), *(("claims", c) for c in ticked), ("decision", decision)]
    submitted = list(dict.fromkeys(value for name, value in fields if name == "claims"))
    not_offered = [c for c in claims_to_allow or () if c not in offered]
    report = {"offered": offered, "submitted": submitted, "not_offered": not_offered}
    return Submission(form.method, form.action, fields), report


def logout_submission(forms: Sequence[Form]) -> Submission | None:
    """The confirmation of a logout page: its hidden fields and the button that says yes."""
    form = next((f for f in forms if f.id and LOGOUT_FORM_ID.search(f.id)), None)
    form = form or next((f for f in forms if f.method == "POST"), None)
    form = form or (forms[0] if forms else None)
    if form is None:
        return None
    named = [b for b in form.buttons if b.name]
    confirm = next((b for b in named if CONFIRM_VALUES.match(b.value)), named[0] if named else None)
    fields = form.hidden()
    if confirm and all(name != confirm.name for name, _ in fields):
        fields.append((confirm.name, confirm.value))
    return Submission(form.method, form.action, fields)


def send(http: httpx.Client, submission: Submission) -> httpx.Response:
    """One exchange, no redirects followed (the client keeps the cookies)."""
    headers = {"Accept": "text/html", "Accept-Language": "en"}
    if submission.method == "GET":
        if submission.fields is None:  # a link or redirect: keep the URL's own query
            return http.get(submission.url, headers=headers)
        params = httpx.QueryParams(tuple(submission.fields))  # a GET form: fields are the query
        return http.get(submission.url, params=params, headers=headers)
    # Encoded here: repeated names (one ``claims`` per ticked box) need a list of pairs.
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    body = urlencode(submission.fields or [])
    return http.request(submission.method, submission.url, content=body, headers=headers)


def same_endpoint(url: str | httpx.URL, endpoint: str) -> bool:
    a, b = httpx.URL(str(url)), httpx.URL(endpoint)
    return (a.scheme, a.host, a.port, a.path) == (b.scheme, b.host, b.port, b.path)


def _next(response: httpx.Response, previous: Submission) -> Submission:
    location = urljoin(str(response.url), response.headers["location"])
    if response.status_code in (307, 308):  # repeat the request; 301/302/303 become a GET
        return Submission(previous.method, location, previous.fields)
    return Submission("GET", location)


def _where(response: httpx.Response) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "url": str(response.url),
        "page": page_text(response.text),
    }


@dataclass
class Authorized:
    callback_url: httpx.URL
    pages: list[str]
    consent: dict[str, list[str]] | None


def authorize(
    http: httpx.Client,
    authorization_url: str,
    *,
    redirect_uri: str,
    email: str = "",
    password: str = "",
    claims_to_allow: Sequence[str] | None = None,
    decision: str = "allow",
    interactive: bool = True,
) -> Authorized:
    """Walk from the authorization URL through login and consent to the redirect_uri.

    With ``interactive=False`` any login or consent page is a FlowError (``page_kind`` says
    which): that is how single sign-on is checked.
    """
    pages: list[str] = []
    consent = None
    request = Submission("GET", authorization_url)
    for _ in range(MAX_STEPS):
        response = send(http, request)
        if response.is_redirect:
            request = _next(response, request)
            if same_endpoint(request.url, redirect_uri):
                return Authorized(httpx.URL(request.url), pages, consent)
            continue
        # A re-rendered login page may come with 4xx (wrong password): read forms regardless.
        page_forms = parse_forms(response.text, str(response.url))
        forms = {f.id: f for f in page_forms}
        login, consent_form = forms.get("login-form"), forms.get("consent-form")
        if not interactive and (login or consent_form):
            kind = "login" if login else "consent"
            raise FlowError(
                f"expected a redirect back, got the {kind} page", page_kind=kind, **_where(response)
            )
        if login:
            if pages and pages[-1] == "login":
                raise FlowError("login was rejected", **_where(response))
            pages.append("login")
            request = login_submission(login, email, password)
        elif consent_form:
            if pages and pages[-1] == "consent":
                raise FlowError("consent was not accepted", **_where(response))
            pages.append("consent")
            request, consent = consent_submission(consent_form, claims_to_allow, decision)
        elif any(f.looks_like_login() for f in page_forms):
            raise FlowError(
                'the login form lacks id="login-form" (Kluis\'s form contract)',
                **_where(response),
            )
        else:
            raise FlowError(
                f"unexpected HTTP {response.status_code} without login or consent form",
                **_where(response),
            )
    raise FlowError(f"no redirect to {redirect_uri} after {MAX_STEPS} steps")


def code_flow(
    http: httpx.Client,
    base: str,
    client: dict[str, Any],
    *,
    redirect_uri: str,
    email: str,
    password: str,
    state: str,
    claims: Sequence[str] = ("email",),
) -> httpx.Response:
    """One whole code flow against a Kluis at ``base`` as the confidential ``client``: /authorize
    (PKCE, S256) through login and consent, then the code exchanged at /token. Returns the
    /token response unread, so callers decide what an error means."""
    verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": redirect_uri,
        "scope": "openid " + " ".join(claims),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    done = authorize(
        http,
        f"{base}/authorize?{urlencode(query)}",
        redirect_uri=redirect_uri,
        email=email,
        password=password,
        claims_to_allow=list(claims),
    )
    code = parse_qs(done.callback_url.query.decode())["code"][0]
    return http.post(
        base + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
        },
        auth=(client["client_id"], client["client_secret"]),
    )


def logout(
    http: httpx.Client, end_session_url: str, *, post_logout_redirect_uri: str
) -> tuple[httpx.URL, bool]:
    """Follow an RP-initiated logout to the post_logout_redirect_uri, confirming on the way.
    Returns the final URL and whether a confirmation form was submitted."""
    confirmed = False
    request = Submission("GET", end_session_url)
    for _ in range(MAX_STEPS):
        response = send(http, request)
        if response.is_redirect:
            request = _next(response, request)
            if same_endpoint(request.url, post_logout_redirect_uri):
                return httpx.URL(request.url), confirmed
            continue
        if response.status_code != 200:
            raise FlowError(f"logout answered HTTP {response.status_code}", **_where(response))
        if confirmed:
            raise FlowError(
                "logout stopped at a page instead of the post_logout_redirect_uri",
                **_where(response),
            )
        submission = logout_submission(parse_forms(response.text, str(response.url)))
        if submission is None:
            raise FlowError("logout stopped at a page without a form", **_where(response))
        confirmed = True
        request = submission
    raise FlowError(f"no redirect to {post_logout_redirect_uri} after {MAX_STEPS} steps")


def prepared(http: httpx.Client, page_url: str, fields: dict[str, str]) -> Submission:
    """Load `page_url` in `http` (so its CSRF cookie is set) and fill in its one POST form
    that has all of `fields`, keeping the form's hidden inputs."""
    loaded = http.get(page_url)
    [form] = [
        f
        for f in parse_forms(loaded.text, str(loaded.url))
        if f.method == "POST" and {i.name for i in f.inputs} >= set(fields)
    ]
    return Submission(form.method, form.action, [*form.hidden(), *fields.items()])
