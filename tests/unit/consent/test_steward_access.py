"""The small pieces of steward access: reading the bearer token and naming used filters."""

from __future__ import annotations

import datetime as dt

import pytest
from starlette.requests import Request

from rights.steward import EntryFilter
from rights.steward_access import NotAvailable, bearer_token


def _request(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER  abc ", "abc"),
        (None, None),
        ("", None),
        ("Bearer ", None),
        ("Basic YTpi", None),
        ("Bearerabc", None),
    ],
)
def test_bearer_token_reads_only_the_rfc6750_header(header: str | None, token: str | None) -> None:
    assert bearer_token(_request(header)) == token


def test_not_available_looks_like_an_unknown_path() -> None:
    problem = NotAvailable()
    assert problem.status_code == 404 and problem.detail == "Not Found"


def test_entry_filter_names_used_filters_without_their_values() -> None:
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert EntryFilter().used() == []
    used = EntryFilter(event="consent.given", subject="ab" * 32, since=moment, after=3).used()
    assert used == ["event", "subject", "since", "after"]
