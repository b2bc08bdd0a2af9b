"""Client authentication at the token, introspection and revocation endpoints
(RFC 6749 §2.3, OIDC Core §9): client_secret_basic, client_secret_post, private_key_jwt
(RFC 7523), and none for public clients. A client must use the method it registered."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import httpx
import jwt
from sqlalchemy import delete
from sqlalchemy.orm import Session

from core import InvalidClient, InvalidRequest, token_hash, upsert_insert, utcnow
from identity.oidc.clients import read_client, secret_matches
from identity.oidc.models import Client, UsedAssertion
from identity.oidc.provider import Provider

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGS = ["RS256", "ES256", "PS256", "EdDSA"]
ASSERTION_LEEWAY_S = 30
JWKS_FETCH_TIMEOUT_S = 5.0


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidClient("malformed Basic authorization header") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient("malformed Basic authorization header")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def _client_jwks(client: Client) -> dict[str, Any]:
    if client.jwks:
        return client.jwks
    if client.jwks_uri:
        response = httpx.get(client.jwks_uri, timeout=JWKS_FETCH_TIMEOUT_S)
        response.raise_for_status()
        data = response.json()
        if isinstance(data, dict):
            return data
    raise InvalidClient("the client has no usable keys")


def _verify_assertion(session: Session, provider: Provider, client: Client, assertion: str) -> None:
    """RFC 7523 §3: iss = sub = client_id, aud = our token endpoint or issuer, exp, jti once."""
    try:
        header = jwt.get_unverified_header(assertion)
        keys = jwt.PyJWKSet.from_dict(_client_jwks(client)).keys
        candidates = [k for k in keys if header.get("kid") in (None, k.key_id)]
        claims: dict[str, Any] | None = None
        for key in candidates:
            try:
                claims = jwt.decode(
                    assertion,
                    key.key,
                    algorithms=ASSERTION_ALGS,
                    # draft-ietf-oauth-rfc7523bis: the issuer identifier (the token endpoint is
                    # still accepted, as widely deployed clients such as Authlib send it).
                    audience=[provider.config.issuer, provider.config.token_endpoint],
                    issuer=client.client_id,
                    leeway=ASSERTION_LEEWAY_S,
                    options={"require": ["exp", "iss", "sub", "aud", "jti"]},
                )
                break
            except jwt.InvalidSignatureError:
                continue
        if claims is None:
            raise InvalidClient("client assertion signature does not verify")
    except (jwt.PyJWTError, httpx.HTTPError, ValueError) as exc:
        raise InvalidClient(f"client assertion rejected: {exc}") from exc
    if claims.get("sub") != client.client_id:
        raise InvalidClient("client assertion sub must equal client_id")
    exp = dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC)
    if exp - utcnow() > dt.timedelta(seconds=provider.config.assertion_max_age):
        raise InvalidClient("client assertion lifetime is too long")
    _consume_jti(session, client.client_id, str(claims["jti"]), exp)


def _consume_jti(session: Session, client_id: str, jti: str, exp: dt.datetime) -> None:
    """Store the assertion's `jti` as used; `InvalidClient` if it was. One INSERT that does
    nothing on a duplicate, not a savepoint: the request may run in autocommit (PostgreSQL,
    `core.autocommit_on_server`), where there is no transaction to take one in."""
    session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < utcnow()))
    key = token_hash(f"{client_id}\x00{jti}")
    used = upsert_insert(session, UsedAssertion).values(key=key, expires_at=exp)
    stored = used.on_conflict_do_nothing().returning(UsedAssertion.key)
    if session.execute(stored).first() is None:  # stored before
        raise InvalidClient("client assertion was already used (jti)")


def authenticate_client(
    session: Session,
    provider: Provider,
    form: Mapping[str, str],
    authorization: str | None,
) -> Client:
    """The client the request authenticates as; `InvalidClient` (or `InvalidRequest`)
    otherwise. A `private_key_jwt` assertion's `jti` is consumed and committed here, so it
    stays used even if the request fails later; the other methods consume nothing, and the
    caller's request goes on in the same transaction (one round trip less and, on SQLite,
    one write lock less per request)."""
    basic = _basic_credentials(authorization)
    assertion = form.get("client_assertion")
    methods_used = [
        m
        for m, present in (
            ("client_secret_basic", basic is not None),
            ("client_secret_post", "client_secret" in form),
            ("private_key_jwt", assertion is not None),
        )
        if present
    ]
    if len(methods_used) > 1:
        raise InvalidRequest("use exactly one client authentication method")
    if basic is not None:
        client_id = basic[0]
        if form.get("client_id") not in (None, client_id):
            raise InvalidRequest("client_id does not match the authenticated client")
    elif assertion is not None:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise InvalidClient("unsupported client_assertion_type")
        try:
            client_id = str(jwt.decode(assertion, options={"verify_signature": False})["sub"])
        except (jwt.PyJWTError, KeyError) as exc:
            raise InvalidClient("malformed client assertion") from exc
    else:
        client_id = form.get("client_id", "")

    client = read_client(session, client_id)
    if client is None:
        raise InvalidClient("client authentication failed")
    method = methods_used[0] if methods_used else "none"
    if method != client.token_endpoint_auth_method:
        raise InvalidClient("client authentication failed")
    if method == "client_secret_basic" and basic is not None:
        if not secret_matches(client, basic[1]):
            raise InvalidClient("client authentication failed")
    elif method == "client_secret_post":
        if not secret_matches(client, form.get("client_secret", "")):
            raise InvalidClient("client authentication failed")
    elif method == "private_key_jwt" and assertion is not None:
        _verify_assertion(session, provider, client, assertion)
        session.commit()
    return client
