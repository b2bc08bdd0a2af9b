"""OpenAPI descriptions of request bodies and parameters that routes read themselves.

The OAuth and OpenID endpoints parse their form or JSON bodies by hand (the specifications fix
the field names and the errors), so FastAPI cannot see them. `openapi_extra=` with these
helpers documents them in `/api/openapi.json` and `/api/docs`, and gives the fuzz tests
(`tests/functional/test_fuzz.py`) bodies with the real field names to vary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
STRING: dict[str, Any] = {"type": "string"}


def _object(fields: Mapping[str, Any], required: Iterable[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: (STRING if spec is None else spec) for name, spec in fields.items()},
    }
    if required := list(required):
        schema["required"] = required
    return schema


def form_body(fields: Mapping[str, Any], required: Iterable[str] = ()) -> dict[str, Any]:
    """A form-encoded body; a field given as None is a plain string."""
    content = {FORM: {"schema": _object(fields, required)}}
    return {"requestBody": {"required": True, "content": content}}


def json_body(fields: Mapping[str, Any], required: Iterable[str] = ()) -> dict[str, Any]:
    content = {JSON: {"schema": _object(fields, required)}}
    return {"requestBody": {"required": True, "content": content}}


def query(fields: Mapping[str, Any], required: Iterable[str] = ()) -> dict[str, Any]:
    needed = set(required)
    return {
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": name in needed,
                "schema": STRING if spec is None else spec,
            }
            for name, spec in fields.items()
        ]
    }


def enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


CLIENT_AUTH_FIELDS: dict[str, Any] = {
    "client_id": None,
    "client_secret": None,
    "client_assertion_type": enum("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
    "client_assertion": None,
}
