"""The FastAPI app factory: wires every package's router, the error handlers (RFC 9457
problems and OAuth errors turned into responses in one place), templates and middleware."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import importlib.resources
import logging
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from attestations import OAUTH_PATHS as ATTESTATION_OAUTH_PATHS
from attestations import PROTOCOL_ROUTERS as ATTESTATION_PROTOCOL_ROUTERS
from attestations import ROUTERS as ATTESTATION_ROUTERS
from attestations import stop_listener
from core import (
    Database,
    InvalidRequest,
    OAuthError,
    Problem,
    ServiceUnavailable,
    Templates,
    TemporarilyUnavailable,
    TooManyRequests,
    configure_logging,
    connection_lost,
    db_session,
    error_fields,
    i18n,
    render,
    request_id_var,
    untrusted,
)
from identity import OAUTH_PATHS as IDENTITY_OAUTH_PATHS
from identity import PROTOCOL_ROUTERS as IDENTITY_PROTOCOL_ROUTERS
from identity import ROUTERS as IDENTITY_ROUTERS
from keys import ROUTERS as KEYS_ROUTERS
from keys import derive_key
from rights import ROUTERS as RIGHTS_ROUTERS
from rights import refresh_erasure_states, send_owed_mails, settle_vouching
from service.fastpath import hot_routes
from service.lease import hold_lease, new_holder
from service.middleware import (
    UNSAFE_INPUT,
    InputGuardMiddleware,
    RequestContextMiddleware,
    fastapi_telemetry,
)
from service.runtime import Runtime, build_runtime
from service.settings import Settings, load_settings

log = logging.getLogger("kluis.app")
TEMPLATE_PACKAGES = ("service", "identity", "attestations", "rights")
PROBLEM_JSON = "application/problem+json"
DATABASE_RETRY_AFTER_S = 2  # a failover of the documented set-up takes a few seconds
LEASE_MIN_SECONDS = 10.0  # a background lease outlives a few slow rounds
# Routed by `service.fastpath.HotRoutes`: the requests of every SSO flow and refresh, and of
# every QR verification (its status long-poll included)
HOT_ROUTES = (
    "authorize",
    "authorize_post",
    "token",
    "userinfo",
    "userinfo_post",
    "verifier_create_session",
    "verifier_session_status",
    "verifier_request_object",
    "verifier_response",
)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


def _page_message(problem: Problem) -> str | None:
    """The catalogue key of the browser's wording for this kind of problem, if it has one."""
    key = f"error.problem.{problem.slug_text}"
    return key if i18n.known(key) else None


def _problem_response(request: Request, problem: Problem) -> Response:
    if _wants_html(request):
        return render(
            request,
            "error.html",
            {
                "title": problem.title_text,
                "detail": problem.detail,
                "message": _page_message(problem),
            },
            status_code=problem.status_code,
        )
    headers = {}
    if isinstance(problem, TooManyRequests | ServiceUnavailable):
        headers["Retry-After"] = str(problem.retry_after)
    return JSONResponse(
        problem.to_dict(instance=f"urn:kluis:request:{request_id_var.get()}"),
        status_code=problem.status_code,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return _problem_response(request, exc)

    @app.exception_handler(OAuthError)
    async def _oauth(request: Request, exc: OAuthError) -> Response:
        if exc.status >= 500:
            log.error("oauth server error", extra={"error": exc.error})
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=exc.headers())

    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeout)
    async def _database(request: Request, exc: Exception) -> Response:
        """The database is unreachable (a failover, a restart) or gone mid-request: a clean
        503 that the client may retry, never a 500 and never a success. Other database
        errors are bugs: they take the 500 path with a reference."""
        if not (isinstance(exc, PoolTimeout) or connection_lost(exc)):
            raise exc
        log.warning("database unavailable; answered 503", extra=error_fields(exc))
        if request.url.path in request.app.state.oauth_paths:
            oauth = TemporarilyUnavailable("the service is unavailable for a moment; try again")
            headers = {**oauth.headers(), "Retry-After": str(DATABASE_RETRY_AFTER_S)}
            return JSONResponse(oauth.to_dict(), status_code=oauth.status, headers=headers)
        return _problem_response(
            request,
            ServiceUnavailable(
                DATABASE_RETRY_AFTER_S,
                "The database cannot be reached just now (a failover may be under way); "
                "nothing was confirmed. Try again in a few seconds.",
            ),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # Field locations and messages only: never echo the submitted values back.
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")}
            for e in exc.errors()
        ]
        problem = Problem(
            "The request body or parameters are not valid.",
            status=422,
            title="Invalid request",
            slug="invalid-input",
            errors=errors,
        )
        return _problem_response(request, problem)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        problem = Problem(
            str(exc.detail) if exc.detail else None,
            status=exc.status_code,
            title="Not found" if exc.status_code == 404 else "Request failed",
            slug="not-found" if exc.status_code == 404 else f"http-{exc.status_code}",
        )
        return _problem_response(request, problem)


async def refuse_unsafe_input(request: Request) -> None:
    """App-wide dependency: the refusal `InputGuardMiddleware` decided on, as the route's own
    kind of error. Async, so that it costs no thread hop on every request."""
    refused: untrusted.UnsafeInput | None = request.scope.get(UNSAFE_INPUT)
    if refused is None:
        return
    log.warning("request input refused", extra={"reason": refused.reason})
    if request.url.path in request.app.state.oauth_paths:
        raise InvalidRequest(refused.reason)
    raise Problem(
        refused.reason, status=refused.status, title="Input not accepted", slug="unsafe-input"
    )


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Background work of this process: the outbox worker (when enabled)."""
    runtime: Runtime = app.state.runtime
    stop = threading.Event()
    worker = None
    if runtime.settings.outbox_worker:
        worker = threading.Thread(
            target=_outbox_loop, args=(runtime, stop), name="kluis-outbox", daemon=True
        )
        worker.start()
    if app.state.serving:
        # What start-up built (modules, the app and its routes, SQLAlchemy's mappers: some
        # 200 000 objects) lives as long as the process. Frozen, it is out of the cyclic
        # collector's way: a full collection scanned all of it, ~0.1 s of CPU every few
        # thousand requests. Only in `kluis serve`: a test process builds many apps, and the
        # cycles of a frozen one would never be collected.
        gc.collect()
        gc.freeze()
    try:
        yield
    finally:
        stop_listener(app.state)
        stop.set()
        if worker is not None:
            worker.join(timeout=15)


def _outbox_loop(runtime: Runtime, stop: threading.Event) -> None:
    """Push due deliveries and owed lapse e-mails, move erasure requests on, now and then
    sign an audit checkpoint if the log grew and settle the vouching graph — in one process
    of the deployment only: the one holding the background lease (service.lease), renewed
    every round."""
    holder = new_holder()
    interval = runtime.settings.outbox_interval
    ttl = dt.timedelta(seconds=max(3 * interval, LEASE_MIN_SECONDS))
    last_checkpoint, holding = 0.0, False
    last_settle: float | None = None  # the first round that holds the lease settles
    while not stop.is_set():
        try:
            with runtime.db.transaction() as session:
                held = hold_lease(session, holder, ttl)
            if held != holding:
                log.info("background worker: %s the lease", "took" if held else "lost")
                holding = held
            if held:
                runtime.outbox.deliver_due()
                send_owed_mails(
                    runtime.db,
                    runtime.accounts.mailer,
                    runtime.subject_keys,
                    runtime.settings.issuer,
                )
                with runtime.db.transaction() as session:
                    refresh_erasure_states(session)
                if time.monotonic() - last_checkpoint >= runtime.settings.audit_checkpoint_interval:
                    with runtime.db.transaction() as session:
                        runtime.audit.checkpoint(session)
                    last_checkpoint = time.monotonic()
                since = None if last_settle is None else time.monotonic() - last_settle
                if since is None or since >= runtime.settings.vouching_settle_interval:
                    last_settle = time.monotonic()  # a failing settle waits its interval too
                    _settle_vouching(runtime)
        except Exception as exc:
            if connection_lost(exc):  # a failover or restart: no traceback every round
                log.warning(
                    "background worker: database unavailable; retrying", extra=error_fields(exc)
                )
            else:
                log.exception("background worker failed; retrying")
        stop.wait(interval)


def _settle_vouching(runtime: Runtime) -> None:
    """Re-judge every peer attestation (rights.settle_vouching, which commits batch by batch);
    counts only in the log."""
    with runtime.db.session() as session:
        outcome, signals = settle_vouching(
            session, runtime.oidc, runtime.vouching, mailer=runtime.accounts.mailer
        )
    if outcome.lapsed:
        lost = sum(1 for lapse in outcome.lapsed if lapse.lost_real_person)
        log.info(
            "vouching settled: %d peer attestations lapsed, %d residents lost real_person, "
            "%d platform events queued",
            len(outcome.lapsed),
            lost,
            signals.queued,
        )


def app_from_environment() -> FastAPI:
    """The app of one `kluis serve --workers N` process: settings from the environment (as the
    parent process read them), its own runtime (connection pool, keys, listener)."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app_from_runtime(build_runtime(settings), serving=True)


def _mount_api_docs(app: FastAPI) -> None:
    """`/api/docs`: Swagger UI from the `fastapi-offline` package's files (nothing is loaded
    from a CDN), started by `/static/api-docs.js` (no inline script)."""
    assets = Path(str(importlib.resources.files("fastapi_offline") / "static"))
    app.mount("/api/docs/assets", StaticFiles(directory=assets), name="api_docs_assets")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request) -> Response:
        return render(request, "api_docs.html", {"openapi_url": app.openapi_url})


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    runtime = build_runtime(settings, database)
    return create_app_from_runtime(runtime)


def install_runtime(app: FastAPI, runtime: Runtime, templates: Templates | None = None) -> None:
    """Point `app`'s routes at `runtime` (they read everything from `app.state`). The app
    is built once per process; the test suite also re-points one app at each test's runtime
    instead of building an app per test, passing the `templates` it keeps (their compiled
    pages) when the settings they depend on are the same."""
    settings = runtime.settings
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.db = runtime.db
    app.state.keyring = runtime.keyring
    app.state.subject_keys = runtime.subject_keys
    app.state.oidc = runtime.oidc
    app.state.accounts = runtime.accounts
    app.state.tombstones = runtime.tombstones
    app.state.templates = templates or Templates(
        TEMPLATE_PACKAGES,
        csrf_key=derive_key(settings.secret_bytes, "kluis/web/csrf"),
        secure_cookies=settings.issuer.startswith("https://"),
    )


def create_app_from_runtime(runtime: Runtime, *, serving: bool = False) -> FastAPI:
    """The app on `runtime`; `serving`: the app of a `kluis serve` process (see `_lifespan`)."""
    settings = runtime.settings
    telemetry = fastapi_telemetry()
    app = FastAPI(
        lifespan=_lifespan,
        title="Kluis",
        version="0.1.0",
        description=(
            "The OpenID Connect provider, the OpenID4VCI credential issuer and the OpenID4VP "
            "verifier API of Kluis. How a platform connects and verifies residents is described "
            "in docs/platform-api.md, each endpoint's specification in docs/api.md; the OAuth "
            "endpoints answer errors as RFC 6749 §5.2 objects, the others as RFC 9457 problems."
        ),
        docs_url=None,  # served below from packaged assets, under the strict CSP
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(refuse_unsafe_input)],
        telemetry=telemetry,
    )
    install_runtime(app, runtime)
    app.state.serving = serving
    app.state.oauth_paths = set(IDENTITY_OAUTH_PATHS | ATTESTATION_OAUTH_PATHS)
    install_error_handlers(app)
    app.add_middleware(InputGuardMiddleware)  # inside: its refusals get request ids and headers
    app.add_middleware(
        RequestContextMiddleware, hsts=settings.production, oauth_paths=app.state.oauth_paths
    )
    if settings.trusted_proxy_list:  # outermost: every layer sees the forwarded client address
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    if not settings.production:
        _mount_api_docs(app)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:  # what browsers ask for when a page names no icon
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/readyz", include_in_schema=False)
    def readyz(request: Request, session: Annotated[Session, Depends(db_session)]) -> JSONResponse:
        try:
            session.connection().exec_driver_sql("SELECT 1")
        except Exception:
            log.warning("database not reachable", exc_info=True)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ready", "database": request.app.state.db.dialect})

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        return render(request, "home.html", {"issuer": request.app.state.settings.issuer})

    # FastAPI tries every route of every included router in order (~3 µs each): the endpoints
    # platforms and wallets call go first, the pages after them (the verifier's were behind
    # 40 routes of pages). No path of the routers they now precede starts with theirs.
    protocol = (*KEYS_ROUTERS, *IDENTITY_PROTOCOL_ROUTERS, *ATTESTATION_PROTOCOL_ROUTERS)
    pages = (*IDENTITY_ROUTERS, *ATTESTATION_ROUTERS, *RIGHTS_ROUTERS)
    routes = list(app.router.routes)  # the app's own, then every router's as it holds them
    for router in (*protocol, *(r for r in pages if not any(r is p for p in protocol))):
        app.include_router(router)  # as they are: `HotRoutes` reads the routers' own routes
        routes += router.routes
    if telemetry is not None:  # FastAPI's tracing and metrics per route are off
        app.router.routes.insert(0, hot_routes(routes, HOT_ROUTES, app.router.dependencies))
    return app
