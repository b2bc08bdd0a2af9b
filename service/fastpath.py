"""The endpoints of every login and every QR verification, routed without FastAPI's
per-request machinery (issue #14).

FastAPI spends on every request, besides the endpoint: a match against each route of each
included router in turn, a dependency solve (the route's and the app's dependencies, a cache
key per dependency, the query string, cookies and headers read for parameters it does not
have, a spare `Response` for headers), two exit stacks, and an error-context record. In a
py-spy profile of `kluis serve` (SQLite, SSO flows) that was about a fifth of the server's
samples; routed directly, a flow takes 4-14 % less CPU (`bench/README.md`, round 11).

`HotRoutes` is one route put first in the app's router. For the routes it was built from
(`hot_routes`) it matches a request by method and path and calls the endpoint as FastAPI
would: the app-wide dependencies first, then the endpoint's own (`read_params`,
`read_form`, ...: each called once per request, as FastAPI caches them), with the same
`Request` and path parameters. Exceptions go on to the same exception
handlers (Starlette's `ExceptionMiddleware`, outside the router). The FastAPI routes stay
registered as they were: the OpenAPI document, `url_for` and everything else is built from
them, and they answer whenever `HotRoutes` declines:

- a request whose method the path does not take (FastAPI answers 405 as before), any path
  not in the table, a `root_path`;
- an app with dependency overrides (tests replace dependencies through FastAPI);
- an app with FastAPI's OpenTelemetry on: `service.app` then does not put `HotRoutes` in.

Only endpoints FastAPI would call the same way are taken (`hot_routes` refuses others): a
coroutine function whose parameters are the `Request`, path parameters of type `str` and
values of dependencies that are async functions of the request alone (as `core.params`'
readers, and as the app-wide dependencies must be); no body, query, header or cookie
parameters, no background tasks or `Response` parameter. The endpoint must return a
`Response`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.params import Depends
from fastapi.routing import APIRoute
from starlette.convertors import StringConvertor
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

RequestReader = Callable[[Request], Awaitable[Any]]

_SCOPE_KEY = "kluis.hot_route"
_PARAMETER = re.compile(r"\{[^}]*\}")  # a path parameter in a route's path


@dataclass(frozen=True)
class _Hot:
    route: APIRoute
    endpoint: Callable[..., Awaitable[Any]]
    request_name: str
    readers: tuple[tuple[str, RequestReader], ...]  # (parameter, dependency)
    path_names: tuple[str, ...]


class HotRoutes(BaseRoute):
    """See the module docstring. Put it first: `app.router.routes.insert(0, ...)`."""

    def __init__(self, routes: Iterable[APIRoute], app_dependencies: Sequence[Depends]) -> None:
        self._dependencies = tuple(
            _reader(d.dependency, "app dependency") for d in app_dependencies
        )
        self._static: dict[tuple[str, str], _Hot] = {}
        self._dynamic: list[tuple[str, _Hot]] = []
        for route in routes:
            hot = _hot(route)
            for method in route.methods or ():
                if hot.path_names:
                    self._dynamic.append((method, hot))
                else:
                    self._static[(method, route.path)] = hot

    @property
    def names(self) -> set[str]:
        """The names of the routes taken, for tests and the start-up check."""
        return {h.route.name for h in self._static.values()} | {
            h.route.name for _, h in self._dynamic
        }

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope.get("root_path"):
            return Match.NONE, {}
        app = scope.get("app")
        if app is None or getattr(app, "dependency_overrides", None):
            return Match.NONE, {}
        method, path = scope["method"], scope["path"]
        hot = self._static.get((method, path))
        params: dict[str, Any] = {}
        if hot is None:
            for wanted, candidate in self._dynamic:
                found = candidate.route.path_regex.match(path) if wanted == method else None
                if found is not None:
                    hot, params = candidate, found.groupdict()
                    break
            else:
                return Match.NONE, {}
        child = {"endpoint": hot.endpoint, "path_params": params, "route": hot.route}
        child[_SCOPE_KEY] = hot
        return Match.FULL, child

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot: _Hot = scope[_SCOPE_KEY]
        request = Request(scope, receive, send)
        for dependency in self._dependencies:
            await dependency(request)
        arguments: dict[str, Any] = {hot.request_name: request}
        if hot.path_names:
            arguments.update(scope["path_params"])
        if hot.readers:
            read: dict[RequestReader, Any] = {}
            for name, reader in hot.readers:
                if reader not in read:
                    read[reader] = await reader(request)
                arguments[name] = read[reader]
        response = await hot.endpoint(**arguments)
        if not isinstance(response, Response):
            raise TypeError(f"{hot.route.name} returned {type(response).__name__}, not a Response")
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)  # the FastAPI routes answer for these names


def hot_routes(
    routes: Iterable[BaseRoute], names: Iterable[str], app_dependencies: Sequence[Depends]
) -> HotRoutes:
    """`HotRoutes` for the `APIRoute`s among `routes` (all of the app's) named in `names`.
    ValueError if a name is not found, if FastAPI would call one differently, or if another
    route could answer one of its requests (FastAPI would pick whichever came first; put
    first, `HotRoutes` would always win)."""
    api_routes = [r for r in routes if isinstance(r, APIRoute)]
    wanted = set(names)
    taken = [r for r in api_routes if r.name in wanted]
    missing = wanted - {r.name for r in taken}
    if missing:
        raise ValueError(f"no such routes: {sorted(missing)}")
    for hot in taken:
        for other in api_routes:
            shared = (other.methods or set()) & (hot.methods or set())
            if other is not hot and shared and _overlap(hot, other):
                raise ValueError(f"routes {hot.name} and {other.name} could match one request")
    return HotRoutes(taken, app_dependencies)


def _overlap(one: APIRoute, other: APIRoute) -> bool:
    """Whether one path could match both (a parameter taken as matching anything)."""
    return bool(
        one.path_regex.match(_PARAMETER.sub("x", other.path))
        or other.path_regex.match(_PARAMETER.sub("x", one.path))
    )


def _hot(route: APIRoute) -> _Hot:
    """What calling `route`'s endpoint takes; ValueError where FastAPI would do more."""
    dependant = route.dependant
    request_name = dependant.request_param_name
    problem = None
    if not inspect.iscoroutinefunction(route.endpoint):
        problem = "the endpoint is not a coroutine function"
    elif request_name is None:
        problem = "the endpoint does not take the Request"
    elif _takes_more(dependant):
        problem = "the endpoint takes parameters other than the request, path and readers"
    elif any(
        field.field_info.annotation is not str or field.alias != field.name
        for field in dependant.path_params
    ) or any(not isinstance(c, StringConvertor) for c in route.param_convertors.values()):
        problem = "a path parameter is not a plain str"
    if problem is not None or request_name is None:
        raise ValueError(f"route {route.name} cannot be routed directly: {problem}")
    readers = []
    for sub in dependant.dependencies:
        if sub.name is None or sub.dependencies or _takes_more(sub) or not sub.use_cache:
            raise ValueError(f"route {route.name}: dependency {sub.call!r} takes more")
        readers.append((sub.name, _reader(sub.call, f"route {route.name}: dependency")))
    return _Hot(
        route=route,
        endpoint=route.endpoint,
        request_name=request_name,
        readers=tuple(readers),
        path_names=tuple(field.name for field in dependant.path_params),
    )


def _takes_more(dependant: Any) -> bool:
    """Whether FastAPI would give this dependant anything besides the request and path."""
    return bool(
        dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.security_scopes_param_name
    )


def _reader(call: Callable[..., Any] | None, what: str) -> RequestReader:
    """`call` if it is an async function of the request alone."""
    parameters = list(inspect.signature(call).parameters.values()) if call else []
    if (
        call is None
        or not inspect.iscoroutinefunction(call)
        or len(parameters) != 1
        or parameters[0].annotation not in (Request, "Request")
    ):
        raise ValueError(f"{what} {call!r} is not an async function of the request alone")
    return call
