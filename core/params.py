"""Reading request parameters and bodies: the one place every router takes them from.

Each reader is an async FastAPI dependency, so the body is read on the event loop and the
(sync) routes that do the database work run in the thread pool without blocking it. A reader
never raises: it hands the route what it found (or None), and the route answers bad input
with its own error, after its own authentication checks (an OAuth error, a problem).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import Depends, Request

from core.errors import InvalidRequest

FORM = "application/x-www-form-urlencoded"


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith(FORM)


@dataclasses.dataclass
class Params:
    """Query parameters (GET) or form fields (POST). Repeated parameters are an error
    (RFC 6749 §3.1), kept in `error` so each endpoint answers it its own way; unknown ones
    are kept and ignored by the checks. `form` is whether the body was a urlencoded form."""

    values: dict[str, str]
    error: InvalidRequest | None
    form: bool

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def require_form(self) -> dict[str, str]:
        if not self.form:
            raise InvalidRequest("the body must be application/x-www-form-urlencoded")
        if self.error is not None:
            raise self.error
        return self.values


async def read_params(request: Request) -> Params:
    """The query string of a GET, the urlencoded body of a POST (a POST with another body
    has no parameters)."""
    is_form = request.method == "POST" and _is_form(request)
    source = await request.form() if is_form else request.query_params
    values: dict[str, str] = {}
    error: InvalidRequest | None = None
    for key, value in source.multi_items():
        if not isinstance(value, str):
            continue
        if key in values:
            error = InvalidRequest(f"parameter {key} is repeated")
        values[key] = value
    if request.method == "POST" and not is_form:
        values = {}
    return Params(values, error, is_form)


async def read_form(request: Request) -> dict[str, str] | None:
    """The urlencoded body; None when it is not a form or a parameter is repeated."""
    params = await read_params(request)
    return params.values if params.form and params.error is None else None


async def read_form_pairs(request: Request) -> list[tuple[str, str]]:
    """The form as ordered pairs, for forms with repeated fields (ticked `claims`)."""
    if not _is_form(request):
        return []
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


async def read_json_body(request: Request) -> Any:
    """The body if it is declared and parsed as JSON, else None."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None
    return await _parsed_json(request)


async def read_any_json(request: Request) -> Any:
    """The body parsed as JSON whatever its declared type (RFC 7591 registration requests
    from clients that send no content type), else None."""
    return await _parsed_json(request)


async def _parsed_json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


ParamsDep = Annotated[Params, Depends(read_params)]
FormDep = Annotated[dict[str, str] | None, Depends(read_form)]
FormPairsDep = Annotated[list[tuple[str, str]], Depends(read_form_pairs)]
JsonBody = Annotated[Any, Depends(read_json_body)]
AnyJsonBody = Annotated[Any, Depends(read_any_json)]
