"""`service.fastpath`: which endpoints may be routed without FastAPI's per-request machinery,
and that they are then called as FastAPI calls them."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import BackgroundTasks, Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, APIRouter
from fastapi.testclient import TestClient

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
        return JSONResponse({"item": item_id, "route": request.scope["route"].name})

    @router.get("/not-a-response", name="not_a_response")
    async def not_a_response(request: Request) -> dict[str, str]:
        return {"a": "b"}

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
        assert client.get("/items/abc").json() == {"item": "abc", "route": "item"}
        with pytest.raises(ValueError, match="app dependency"):
            client.post("/plain?refuse=1", data={"a": "1"})
        # methods and paths it does not take go to FastAPI's routes
        assert client.get("/plain").status_code == 405
        assert client.get("/items/abc/more").status_code == 404


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


def route_of(router: APIRouter, name: str) -> APIRoute:
    return next(r for r in router.routes if isinstance(r, APIRoute) and r.name == name)


REFUSED = APIRouter()


@REFUSED.post("/sync", name="sync")
def sync_endpoint(request: Request) -> Response:
    return Response()


@REFUSED.get("/query", name="query")
async def query_endpoint(request: Request, q: str) -> Response:
    return Response()


@REFUSED.get("/header", name="header")
async def header_endpoint(request: Request, x_thing: Annotated[str, Header()]) -> Response:
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


@REFUSED.get("/number/{n}", name="number")
async def number_endpoint(request: Request, n: int) -> Response:
    return Response()


@REFUSED.get("/path/{p:path}", name="path_convertor")
async def path_endpoint(request: Request, p: str) -> Response:
    return Response()


@REFUSED.get("/tasks", name="tasks")
async def tasks_endpoint(request: Request, tasks: BackgroundTasks) -> Response:
    return Response()


@pytest.mark.parametrize(
    "name",
    [
        "sync",
        "query",
        "header",
        "no_request",
        "sync_reader",
        "nested_reader",
        "number",
        "path_convertor",
        "tasks",
    ],
)
def test_endpoints_fastapi_would_call_differently_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        hot_routes([route_of(REFUSED, name)], [name], [])


def test_every_name_must_be_found() -> None:
    with pytest.raises(ValueError, match="no such routes"):
        hot_routes(REFUSED.routes, ["nowhere"], [])


def test_app_dependencies_must_be_async_functions_of_the_request() -> None:
    router = APIRouter()

    @router.get("/fine", name="fine")
    async def fine(request: Request) -> Response:
        return Response()

    with pytest.raises(ValueError, match="app dependency"):
        hot_routes(router.routes, ["fine"], [Depends(sync_reader)])
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
