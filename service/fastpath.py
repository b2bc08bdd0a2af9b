"""The endpoints of every login and every QR verification, routed without FastAPI's
per-request machinery (issue #14).

FastAPI spends on every request, besides the endpoint: a match against each route of each
included router in turn, a dependency solve (the route's and the app's dependencies, a cache
key per dependency, the query string, cookies and headers read for parameters it does not
have, a spare `Response` for headers), two exit stacks, and an error-context record. In a
py-spy profile of `kluis serve` (SQLite, SSO flows) that was about a fifth of the server's
samples; routed directly, an SSO flow or a refresh takes mostly 7-11 % less of the server's
CPU, and a QR verification more (`bench/README.md`, `oidc_flow` round 11).

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

Only endpoints FastAPI would call the same way are taken (`hot_routes` refuses others at
start-up): a coroutine function annotated to return a `Response`, whose parameters are the
`Request`, its route's path parameters as plain `str` and values of dependencies that are
async functions of the request alone (as `core.params`' readers, and as the app-wide
dependencies must be); no body, query, header or cookie parameters, no background tasks or
`Response` parameter, no body limit of the route's own. The routes are read as their routers
hold them, so those routers are included as they are (no prefix, dependencies or body limit
at `include_router`; `tests/functional/test_fastpath.py` compares both routings).
"""

from __future__ import annotations

import inspect
import typing
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from inspect import Parameter
from typing import Any

from fastapi import Request
from fastapi.params import Depends
from fastapi.routing import APIRoute
from starlette.convertors import StringConvertor
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, NoMatchFound
from starlette.types import Receive, Scope, Send

RequestReader = Callable[[Request], Awaitable[Any]]

_SCOPE_KEY = "kluis.hot_route"


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
        self._dependencies = tuple(_app_dependency(d) for d in app_dependencies)
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
        """The names of the routes taken (for tests)."""
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
        child = {
            "endpoint": hot.endpoint,
            "path_params": params,
            "route": hot.route,
            _SCOPE_KEY: hot,
        }
        return Match.FULL, child

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot: _Hot = scope[_SCOPE_KEY]
        request = Request(scope, receive, send)
        for dependency in self._dependencies:
            await dependency(request)
        arguments: dict[str, Any] = {hot.request_name: request}
        for name in hot.path_names:
            arguments[name] = scope["path_params"][name]
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
    """`HotRoutes` for the `APIRoute`s among `routes` (all of the app's, as their routers
    hold them: included without a prefix, dependencies or a body limit) named in `names`.
    ValueError if a name is not found or names more than one route, if FastAPI would call one
    differently, or if another route could answer one of its requests (FastAPI would pick
    whichever came first; put first, `HotRoutes` would always win)."""
    routes = list(routes)
    wanted = set(names)
    taken = [r for r in routes if isinstance(r, APIRoute) and r.name in wanted]
    counted = Counter(r.name for r in taken)
    if set(counted) != wanted or max(counted.values(), default=1) > 1:
        raise ValueError(f"not one route each: {sorted(wanted - set(counted))} {counted}")
    for hot in taken:
        for other in routes:
            if other is not hot and _overlap(hot, other):
                name = getattr(other, "name", other)
                raise ValueError(f"routes {hot.name} and {name} could match one request")
    return HotRoutes(taken, app_dependencies)


def _overlap(hot: APIRoute, other: BaseRoute) -> bool:
    """Whether `other` could answer a request `hot` answers: the same method (any, for a
    mount) and paths whose segments could all be equal. A segment with a parameter could be
    anything; a `:path` parameter or a mount anything from there on."""
    methods = getattr(other, "methods", None)
    mount = isinstance(other, Mount)
    if not mount and methods is not None and not methods & (hot.methods or set()):
        return False
    path = getattr(other, "path", None)
    if path is None:
        return True  # a route of another kind: cannot tell
    mine, theirs = hot.path.split("/"), path.split("/")
    for index, segment in enumerate(theirs):
        if ":path}" in segment or (mount and index == len(theirs) - 1 and not segment):
            return True
        if index >= len(mine):
            return False
        if "{" not in segment and "{" not in mine[index] and segment != mine[index]:
            return False
    return mount or len(mine) == len(theirs)


def _hot(route: APIRoute) -> _Hot:
    """What calling `route`'s endpoint takes; ValueError where FastAPI would do more."""
    dependant = route.dependant
    request_name = dependant.request_param_name
    problem = None
    if not inspect.iscoroutinefunction(route.endpoint):
        problem = "the endpoint is not a coroutine function"
    elif not _returns_response(route.endpoint):
        problem = "the endpoint is not annotated to return a Response"
    elif request_name is None:
        problem = "the endpoint does not take the Request"
    elif _takes_more(dependant):
        problem = "the endpoint takes parameters other than the request, path and readers"
    elif getattr(route, "max_body_size", None) is not None:
        problem = "the route has a body limit of its own"
    elif (
        any(
            field.field_info.annotation is not str
            or field.alias != field.name
            or field.field_info.metadata
            for field in dependant.path_params
        )
        or any(not isinstance(c, StringConvertor) for c in route.param_convertors.values())
        or {field.name for field in dependant.path_params} != set(route.param_convertors)
    ):
        problem = "the path parameters are not plain str parameters of the endpoint"
    if problem is not None or request_name is None:
        raise ValueError(f"route {route.name} cannot be routed directly: {problem}")
    readers = []
    for sub in dependant.dependencies:
        if (
            sub.name is None
            or sub.dependencies
            or sub.path_params
            or _takes_more(sub)
            or not sub.use_cache
            or getattr(sub, "concurrency", None) is not None
        ):
            raise ValueError(f"route {route.name}: dependency {sub.call!r} takes more")
        readers.append((sub.name, _reader(sub.call, f"route {route.name}: dependency")))
    return _Hot(
        route=route,
        endpoint=route.endpoint,
        request_name=request_name,
        readers=tuple(readers),
        path_names=tuple(route.param_convertors),
    )


def _returns_response(endpoint: Callable[..., Any]) -> bool:
    try:
        returned = typing.get_type_hints(endpoint).get("return")
    except Exception:  # an annotation that does not resolve: not known to be a Response
        return False
    return isinstance(returned, type) and issubclass(returned, Response)


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


def _app_dependency(depends: Depends) -> RequestReader:
    if not depends.use_cache or getattr(depends, "scope", None) not in (None, "request"):
        raise ValueError(f"app dependency {depends.dependency!r} is not a plain dependency")
    return _reader(depends.dependency, "app dependency")


def _reader(call: Callable[..., Any] | None, what: str) -> RequestReader:
    """`call` if it is an async function of the request alone."""
    parameters = list(inspect.signature(call).parameters.values()) if call else []
    if (
        call is None
        or not inspect.iscoroutinefunction(call)
        or len(parameters) != 1
        or parameters[0].kind not in (Parameter.POSITIONAL_ONLY, Parameter.POSITIONAL_OR_KEYWORD)
        or parameters[0].annotation not in (Request, "Request")
    ):
        raise ValueError(f"{what} {call!r} is not an async function of the request alone")
    return call
