"""How a platform authenticates to Kluis's platform APIs (the verifier's sessions, the
letters' paper votes): with its OpenID Connect client credentials, HTTP Basic
(`client_secret_basic`) or a `private_key_jwt` assertion in the JSON body (POST) or the query
string (GET, DELETE). Public clients cannot use these APIs."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from core import InvalidClient
from identity import Client, authenticate_client, provider_of

ASSERTION_FIELDS = ("client_id", "client_assertion", "client_assertion_type")
PLATFORM_AUTH_METHODS = ("client_secret_basic", "private_key_jwt")


def authenticate_platform(request: Request, session: Session, body: Any = None) -> Client:
    """The platform's client, authenticated; `InvalidClient` otherwise. As at the token
    endpoint, a `private_key_jwt` assertion's `jti` is committed as soon as it is used
    (`authenticate_client`); otherwise the request goes on in the same transaction."""
    source = body if isinstance(body, dict) else request.query_params
    form = {k: str(source[k]) for k in ASSERTION_FIELDS if source.get(k) is not None}
    client = authenticate_client(
        session, provider_of(request), form, request.headers.get("authorization")
    )
    if client.public or client.token_endpoint_auth_method not in PLATFORM_AUTH_METHODS:
        raise InvalidClient("platform APIs need client_secret_basic or private_key_jwt")
    return client
