"""ASGI middleware (pure ASGI, so streamed responses such as SSE pass through untouched):
request ids, one structured log line per request, security headers, and the one check of
untrusted input where requests are read; and whether FastAPI's own telemetry layer has work
(`fastapi_telemetry`). Every request passes through all of it: it is kept cheap (issue #14)."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi.telemetry import TelemetryConfig
from opentelemetry import _logs, metrics, trace

from core import Load, request_id_var, untrusted

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


# The global providers of an unconfigured process: what OpenTelemetry's API returns until one
# is set (by `opentelemetry-instrument`, say). FastAPI tells them apart the same way.
_UNSET_PROVIDERS = frozenset({"ProxyTracerProvider", "_ProxyMeterProvider", "ProxyLoggerProvider"})


def fastapi_telemetry() -> TelemetryConfig | None:
    """`FastAPI(telemetry=...)`: its defaults (None) when this process has an OpenTelemetry
    provider set or FastAPI is asked to set them up (`FASTAPI_OTEL_AUTO_CONFIGURE`), else
    off. With the defaults FastAPI looks up the three global providers on every request to
    find out whether it has anything to do (~5-10 us, issue #14); both ways, a process
    without providers records nothing. Decided when the app is built: a provider set later
    (nothing in Kluis sets one) would not be used."""
    if os.getenv("FASTAPI_OTEL_AUTO_CONFIGURE", "").lower() == "true":
        return None
    providers = (trace.get_tracer_provider(), metrics.get_meter_provider())
    if any(
        type(p).__name__ not in _UNSET_PROVIDERS for p in (*providers, _logs.get_logger_provider())
    ):
        return None
    return TelemetryConfig(tracing=False, metrics=False, logs=False)


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


# Added to every response that does not set them itself, in this order (`x-request-id` first).
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CSP.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
_HSTS = ((b"strict-transport-security", b"max-age=63072000; includeSubDomains"),)


def _incoming_request_id(headers: Any) -> str:
    """The client's `X-Request-Id` (the last, as a dict of the headers would keep), or ''."""
    found = b""
    for name, value in headers:
        if name == b"x-request-id":
            found = value
    return found.decode("latin-1")


def _log_request(scope: Scope, status: int, started: float) -> None:
    """The request's log line, through `logging` (levels, handlers, filters) but without
    `Logger.info`'s walk of the stack for the caller: the record names this function."""
    if not log.isEnabledFor(logging.INFO):
        return
    fields = {
        "method": scope.get("method"),
        "path": scope.get("path"),  # never the query string: it may hold codes
        "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
    log.handle(
        log.makeRecord(
            log.name, logging.INFO, __file__, _LOG_LINE, "request", (), None, "_log_request", fields
        )
    )


_LOG_LINE = _log_request.__code__.co_firstlineno


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, hsts: bool, oauth_paths: set[str]) -> None:
        self.app = app
        self.hsts = hsts
        self.oauth_paths = oauth_paths
        self.headers = _SECURITY_HEADERS + _HSTS if hsts else _SECURITY_HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _incoming_request_id(scope.get("headers") or ())
        request_id = incoming if incoming and _INCOMING_ID.match(incoming) else secrets.token_hex(8)
        token = request_id_var.set(request_id)
        Load.active += 1
        started = time.perf_counter()
        status = 500
        response_started = False
        request_id_header = (b"x-request-id", request_id.encode())
        security_headers = self.headers

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers") or ())
                present = {name.lower() for name, _ in headers}
                if b"x-request-id" not in present:
                    headers.append(request_id_header)
                headers.extend(h for h in security_headers if h[0] not in present)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error")
            if response_started:
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
            Load.active -= 1
            _log_request(scope, status, started)
            request_id_var.reset(token)


UNSAFE_INPUT = "kluis.unsafe_input"  # scope key: why the request's input was refused
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class InputGuardMiddleware:
    """Checks every request's path, query, Basic credentials and body once, before any route
    reads them (`core.untrusted`). A refused request reaches the app with an empty body and
    the reason under `UNSAFE_INPUT` in its scope; the app-wide dependency
    `service.app.refuse_unsafe_input` then answers with the endpoint's own kind of error (an
    OAuth error or a problem), so the answer is the one the route's clients already handle.
    """

    def __init__(self, app: ASGIApp, max_body: int = untrusted.MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        try:
            self._check_head(scope, headers)
        except untrusted.UnsafeInput as exc:
            scope[UNSAFE_INPUT] = exc
        if scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        body, more = await self._read_body(receive, headers)
        if UNSAFE_INPUT not in scope:
            try:
                if more:
                    raise untrusted.UnsafeInput("the request body is too large", status=413)
                _check_body(body, headers.get(b"content-type", b"").decode("latin-1"))
            except untrusted.UnsafeInput as exc:
                scope[UNSAFE_INPUT] = exc
        if UNSAFE_INPUT in scope:
            body = b""
        await self.app(scope, _replay(body, receive), send)

    @staticmethod
    def _check_head(scope: Scope, headers: dict[bytes, bytes]) -> None:
        untrusted.check_text(scope.get("path", ""))
        untrusted.check_form_text(scope.get("query_string", b"").decode("latin-1"))
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        if "\x00" in authorization:
            raise untrusted.UnsafeInput("NUL characters are not accepted")
        untrusted.check_basic_credentials(authorization)

    async def _read_body(self, receive: Receive, headers: dict[bytes, bytes]) -> tuple[bytes, bool]:
        """The body, up to `max_body` bytes; and whether there was more (then it is not read
        further: the request is refused)."""
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            return b"", True
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", True
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), False


def _check_body(body: bytes, content_type: str) -> None:
    if not body:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        untrusted.check_form_text(body.decode("latin-1"))
    elif media_type == "application/json" or media_type.endswith("+json"):
        untrusted.check_json_text(body)
    elif not media_type.startswith("multipart/"):
        untrusted.check_text(body.decode("utf-8", "replace"))


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app the body read already, then the client's own messages
    (such as `http.disconnect`)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
