"""Helpers for account tests: fast password hashing (tests only), the mail outbox, forms."""

from __future__ import annotations

import dataclasses
import re
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from adapters.mail import read_outbox
from identity.accounts.passwords import Argon2Params, Passwords
from identity.accounts.service import Accounts

# Far below production strength, to keep the suite fast. Never used outside tests.
FAST_ARGON2 = Argon2Params(time_cost=1, memory_kib=8, parallelism=1)
STRONG_PASSWORD = "paarse olifant danst op het dak"

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"(https?://\S+)")


def fast_accounts(accounts: Accounts) -> Accounts:
    return dataclasses.replace(accounts, passwords=Passwords(FAST_ARGON2))


def install_fast_accounts(app: FastAPI) -> Accounts:
    accounts = fast_accounts(app.state.accounts)
    app.state.accounts = accounts
    return accounts


def csrf_token(client: TestClient, path: str = "/login") -> str:
    match = _CSRF.search(client.get(path).text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def post_form(
    client: TestClient, path: str, data: dict[str, str], *, csrf_from: str | None = None
) -> Response:
    token = csrf_token(client, csrf_from or path)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def outbox(directory: Path | None) -> list[EmailMessage]:
    assert directory is not None
    return read_outbox(directory) if directory.exists() else []


def mail_body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


def link_in(message: EmailMessage, path: str) -> str:
    for url in _LINK.findall(mail_body(message)):
        if urlsplit(url).path == path:
            return str(url)
    raise AssertionError(f"no {path} link in the mail")


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def relative(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def register(
    client: TestClient, email: str, password: str = STRONG_PASSWORD, name: str = ""
) -> Response:
    return post_form(client, "/register", {"email": email, "password": password, "name": name})


def log_in(
    client: TestClient, email: str, password: str = STRONG_PASSWORD, return_to: str = "/"
) -> Response:
    data = {"email": email, "password": password, "return_to": return_to}
    return post_form(client, "/login", data)
