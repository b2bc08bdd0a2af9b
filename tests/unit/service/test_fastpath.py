"""`service.fastpath`: which endpoints may be routed without FastAPI's per-request machinery,
and that they are then called as FastAPI calls them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import pytest
from fastapi import BackgroundTasks, Cookie, Depends, FastAPI, Header, Path, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, APIRouter
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount, Route

from core import Params, ParamsDep
from core.params import read_params
from service.fastpath import HotRoutes, hot_routes


async def guard(request: Request) -> None:
    if request.query_params.get("refuse"):
        raise ValueError("refused by the app dependency")


def sync_reader(request: Request) -> str:
    return "sync"


async def nested_reader(value: Annotated[str, Depends(sync_reader)]) -> str:
    return value


def build(*names: str) -> tuple[FastAPI, HotRoutes]:
    router = APIRouter()

    @router.post("/plain", name="plain")
    async def plain(request: Request, params: ParamsDep, again: ParamsDep) -> Response:
        return JSONResponse({"values": params.values, "same": params is again})

    @router.get("/items/{item_id}", name="item")
    async def item(request: Request, item_id: str) -> Response:
        route, direct = request.scope["route"].name, "kluis.hot_route" in request.scope
        return JSONResponse({"item": item_id, "route": route, "direct": direct})

    @router.get("/not-a-response", name="not_a_response")
    async def not_a_response(request: Request) -> Response:
        return {"a": "b"}  # type: ignore[return-value]

    app = FastAPI(dependencies=[Depends(guard)])
    app.include_router(router)
    hot = hot_routes(router.routes, names, app.router.dependencies)
    app.router.routes.insert(0, hot)
    return app, hot


def test_a_hot_route_gets_what_fastapi_would_give_it() -> None:
    app, hot = build("plain", "item")
    assert hot.names == {"plain", "item"}
    with TestClient(app) as client:
        answer = client.post("/plain", data={"a": "1"})
        assert answer.json() == {"values": {"a": "1"}, "same": True}
        answer = client.get("/items/a%20b")
        assert answer.json() == {"item": "a b", "route": "item", "direct": True}
        with pytest.raises(ValueError, match="app dependency"):
            client.post("/plain?refuse=1", data={"a": "1"})
        # methods and paths it does not take go to FastAPI's routes
        assert client.get("/plain").status_code == 405
        assert client.get("/items/abc/more").status_code == 404


def test_a_request_under_a_root_path_goes_to_fastapis_route() -> None:
    app, _ = build("item")
    with TestClient(app, root_path="/base") as client:
        answer = client.get("/base/items/abc")
        assert answer.json() == {"item": "abc", "route": "item", "direct": False}


def test_an_endpoint_returning_something_else_is_an_error() -> None:
    app, _ = build("not_a_response")
    with TestClient(app) as client, pytest.raises(TypeError, match="not a Response"):
        client.get("/not-a-response")


def test_dependency_overrides_send_requests_through_fastapi() -> None:
    app, _ = build("plain")

    async def override(request: Request) -> Params:
        return Params({"overridden": "yes"}, None, True)

    app.dependency_overrides[read_params] = override
    with TestClient(app) as client:
        assert client.post("/plain", data={"a": "1"}).json()["values"] == {"overridden": "yes"}


def ok(request: Request) -> Response:
    return Response()


def route_of(router: APIRouter, name: str) -> APIRoute:
    return next(r for r in router.routes if isinstance(r, APIRoute) and r.name == name)


REFUSED = APIRouter()


async def keyword_reader(*, request: Request) -> str:
    return "x"


async def generator_reader(request: Request) -> AsyncIterator[str]:
    yield "x"


@REFUSED.post("/sync", name="sync")
def sync_endpoint(request: Request) -> Response:
    return Response()


@REFUSED.get("/dict", name="returns_dict")
async def dict_endpoint(request: Request) -> dict[str, str]:
    return {}


@REFUSED.get("/query", name="query")
async def query_endpoint(request: Request, q: str) -> Response:
    return Response()


@REFUSED.get("/header", name="header")
async def header_endpoint(request: Request, x_thing: Annotated[str, Header()]) -> Response:
    return Response()


@REFUSED.get("/cookie", name="cookie")
async def cookie_endpoint(request: Request, c: Annotated[str, Cookie()]) -> Response:
    return Response()


@REFUSED.post("/body", name="body")
async def body_endpoint(request: Request, body: dict[str, str]) -> Response:
    return Response()


@REFUSED.get("/response-parameter", name="response_parameter")
async def response_parameter_endpoint(request: Request, response: Response) -> Response:
    return Response()


@REFUSED.get("/no-request", name="no_request")
async def no_request_endpoint(params: ParamsDep) -> Response:
    return Response()


@REFUSED.get("/sync-reader", name="sync_reader")
async def sync_reader_endpoint(
    request: Request, v: Annotated[str, Depends(sync_reader)]
) -> Response:
    return Response()


@REFUSED.get("/nested-reader", name="nested_reader")
async def nested_endpoint(request: Request, v: Annotated[str, Depends(nested_reader)]) -> Response:
    return Response()


@REFUSED.get("/keyword-reader", name="keyword_reader")
async def keyword_endpoint(
    request: Request, v: Annotated[str, Depends(keyword_reader)]
) -> Response:
    return Response()


@REFUSED.get("/generator-reader", name="generator_reader")
async def generator_endpoint(
    request: Request, v: Annotated[str, Depends(generator_reader)]
) -> Response:
    return Response()


@REFUSED.get("/uncached", name="uncached")
async def uncached_endpoint(
    request: Request, v: Annotated[Params, Depends(read_params, use_cache=False)]
) -> Response:
    return Response()


@REFUSED.get("/route-dependency", name="route_dependency", dependencies=[Depends(guard)])
async def route_dependency_endpoint(request: Request) -> Response:
    return Response()


@REFUSED.get("/number/{n}", name="number")
async def number_endpoint(request: Request, n: int) -> Response:
    return Response()


@REFUSED.get("/short/{s}", name="constrained")
async def constrained_endpoint(request: Request, s: Annotated[str, Path(max_length=3)]) -> Response:
    return Response()


@REFUSED.get("/undeclared/{s}", name="undeclared")
async def undeclared_endpoint(request: Request) -> Response:
    return Response()


@REFUSED.get("/path/{p:path}", name="path_convertor")
async def path_endpoint(request: Request, p: str) -> Response:
    return Response()


@REFUSED.get("/tasks", name="tasks")
async def tasks_endpoint(request: Request, tasks: BackgroundTasks) -> Response:
    return Response()


@REFUSED.post("/limited", name="limited", max_body_size=10)
async def limited_endpoint(request: Request) -> Response:
    return Response()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("sync", "not a coroutine function"),
        ("returns_dict", "not annotated to return a Response"),
        ("query", "parameters other than"),
        ("header", "parameters other than"),
        ("cookie", "parameters other than"),
        ("body", "parameters other than"),
        ("response_parameter", "parameters other than"),
        ("no_request", "does not take the Request"),
        ("sync_reader", "not an async function of the request alone"),
        ("nested_reader", "takes more"),
        ("keyword_reader", "not an async function of the request alone"),
        ("generator_reader", "not an async function of the request alone"),
        ("uncached", "takes more"),
        ("route_dependency", "takes more"),
        ("number", "not plain str"),
        ("constrained", "not plain str"),
        ("undeclared", "not plain str"),
        ("path_convertor", "not plain str"),
        ("tasks", "parameters other than"),
        ("limited", "body limit"),
    ],
)
def test_endpoints_fastapi_would_call_differently_are_refused(name: str, reason: str) -> None:
    with pytest.raises(ValueError, match=f"{name}.*{reason}"):
        hot_routes([route_of(REFUSED, name)], [name], [])


def test_every_name_must_be_found_once() -> None:
    with pytest.raises(ValueError, match="not one route each"):
        hot_routes(REFUSED.routes, ["nowhere"], [])
    twice = APIRouter()

    @twice.get("/one", name="same")
    async def one(request: Request) -> Response:
        return Response()

    @twice.get("/two", name="same")
    async def two(request: Request) -> Response:
        return Response()

    with pytest.raises(ValueError, match="not one route each"):
        hot_routes(twice.routes, ["same"], [])


def test_app_dependencies_must_be_async_functions_of_the_request() -> None:
    router = APIRouter()

    @router.get("/fine", name="fine")
    async def fine(request: Request) -> Response:
        return Response()

    with pytest.raises(ValueError, match="app dependency"):
        hot_routes(router.routes, ["fine"], [Depends(sync_reader)])
    with pytest.raises(ValueError, match="app dependency"):
        hot_routes(router.routes, ["fine"], [Depends(guard, use_cache=False)])
    assert hot_routes(router.routes, ["fine"], [Depends(guard)]).names == {"fine"}


def test_a_route_another_could_shadow_is_refused() -> None:
    router = APIRouter()

    @router.get("/things/new", name="new_thing")
    async def new_thing(request: Request) -> Response:
        return Response()

    @router.get("/things/{thing_id}", name="thing")
    async def thing(request: Request, thing_id: str) -> Response:
        return Response()

    @router.delete("/other/{thing_id}", name="delete_other")
    async def delete_other(request: Request, thing_id: str) -> Response:
        return Response()

    @router.get("/other/{thing_id}", name="other")
    async def other(request: Request, thing_id: str) -> Response:
        return Response()

    with pytest.raises(ValueError, match="could match one request"):
        hot_routes(router.routes, ["thing"], [])
    with pytest.raises(ValueError, match="could match one request"):
        hot_routes(router.routes, ["new_thing"], [])
    # the same path with other methods is no conflict
    assert hot_routes(router.routes, ["other"], []).names == {"other"}


@pytest.mark.parametrize(
    ("hot_path", "other", "overlap"),
    [
        ("/verifier/request/{id}", Route("/{section}/request/latest", ok), True),
        ("/verifier/request/{id}", Route("/{section}/request/{x}/more", ok), False),
        ("/verifier/request/{id}", Route("/verifier/{rest:path}", ok), True),
        ("/verifier/request/{id}", Route("/other/{rest:path}", ok), False),
        ("/verifier/request/{id}", Route("/verifier/request/{id}", ok, methods=["POST"]), False),
        ("/verifier/request/{id}", Mount("/verifier", routes=[]), True),
        ("/verifier/request/{id}", Mount("/static", routes=[]), False),
        ("/token", Mount("", routes=[]), True),
        ("/token", Route("/token/", ok), False),
        ("/token", Route("/tok{en}", ok), True),
    ],
)
def test_overlaps_with_routes_of_every_kind(hot_path: str, other: BaseRoute, overlap: bool) -> None:
    router = APIRouter()
    if "{" in hot_path:

        @router.get(hot_path, name="hot")
        async def hot(request: Request, id: str) -> Response:
            return Response()

    else:

        @router.get(hot_path, name="hot")
        async def hot_static(request: Request) -> Response:
            return Response()

    routes = [route for route in router.routes if isinstance(route, APIRoute)]
    if overlap:
        with pytest.raises(ValueError, match="could match one request"):
            hot_routes([*routes, other], ["hot"], [])
    else:
        assert hot_routes([*routes, other], ["hot"], []).names == {"hot"}
