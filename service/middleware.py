"""ASGI middleware (pure ASGI, so streamed responses such as SSE pass through untouched):
request ids, one structured log line per request, and security headers."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from core.logging import request_id_var

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("kluis.http")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _error_body(
    path: str, accept: str, request_id: str, oauth_paths: set[str]
) -> tuple[bytes, bytes]:
    """The 500 answer: no internals, only a reference the operator can find in the log."""
    detail = f"An internal error occurred. Quote reference {request_id} when reporting it."
    if path in oauth_paths:
        body = {"error": "server_error", "error_description": detail}
        return json.dumps(body).encode(), b"application/json"
    if "text/html" in accept and "json" not in accept:
        page = (
            '<!doctype html><html lang="nl"><meta charset="utf-8"><title>Kluis</title>'
            f"<main><h1>Er ging iets mis / Something went wrong</h1><p>{detail}</p></main>"
        )
        return page.encode(), b"text/html; charset=utf-8"
    problem = {
        "type": "urn:kluis:problem:server-error",
        "title": "Internal error",
        "status": 500,
        "detail": detail,
        "instance": f"urn:kluis:request:{request_id}",
    }
    return json.dumps(problem).encode(), b"application/problem+json"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, hsts: bool, oauth_paths: set[str]) -> None:
        self.app = app
        self.hsts = hsts
        self.oauth_paths = oauth_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _INCOMING_ID.match(incoming) else secrets.token_hex(8)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_holder = {"status": 500, "started": False}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                extra = {
                    b"x-request-id": request_id.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"no-referrer",
                    b"x-frame-options": b"DENY",
                    b"content-security-policy": CSP.encode(),
                    b"cross-origin-opener-policy": b"same-origin",
                    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
                }
                if self.hsts:
                    extra[b"strict-transport-security"] = b"max-age=63072000; includeSubDomains"
                headers.extend((k, v) for k, v in extra.items() if k not in present)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error")
            if status_holder["started"]:
                raise
            headers = dict(scope.get("headers") or [])
            body, content_type = _error_body(
                scope.get("path", ""),
                headers.get(b"accept", b"").decode("latin-1"),
                request_id,
                self.oauth_paths,
            )
            await send_wrapper(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", content_type), (b"cache-control", b"no-store")],
                }
            )
            await send_wrapper({"type": "http.response.body", "body": body})
        finally:
            log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),  # never the query string: it may hold codes
                    "status": status_holder["status"],
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id_var.reset(token)
