"""Names of the verifier's requests for per-request counts in tests: `method path`, with the
session id in the path replaced by `{id}`."""

from __future__ import annotations

import httpx

_WITH_ID = ("/verifier/request/", "/verifier/sessions/")


def request_label(request: httpx.Request) -> str:
    path = request.url.path
    for prefix in _WITH_ID:
        if path.startswith(prefix):
            path = prefix + "{id}"
    return f"{request.method} {path}"
