"""Client (relying party) registry: creation, validation of metadata, secrets.

Redirect URIs are matched exactly (RFC 9700 §4.1.3). Pairwise subjects are computed per
*sector*: the host of the redirect URIs, or of a registered `sector_identifier_uri`
(OIDC Core §8.1).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core import Prepared, matches, new_token, token_hash, utcnow
from identity.oidc.errors import InvalidClientMetadata, InvalidRedirectUri
from identity.oidc.models import Client

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
ID_TOKEN_ALGS = ("RS256", "ES256")
SUBJECT_TYPES = ("pairwise", "public")
DEFAULT_SCOPE = "openid email profile offline_access residence age real_person"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")


@dataclasses.dataclass(frozen=True)
class ClientSpec:
    name: str
    redirect_uris: Sequence[str]
    post_logout_redirect_uris: Sequence[str] = ()
    backchannel_logout_uri: str | None = None
    events_uri: str | None = None
    public: bool = False
    token_endpoint_auth_method: str | None = None
    subject_type: str = "pairwise"
    sector_identifier_uri: str | None = None
    sector_redirect_uris: Sequence[str] | None = None  # contents of sector_identifier_uri
    id_token_alg: str = "RS256"  # noqa: S105 (an algorithm name)
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    purpose: str = ""
    scope: str = DEFAULT_SCOPE
    # URIs Kluis itself calls (back-channel logout, events, jwks, sector document) may be
    # http on loopback only in development; in production they must be https, so that a
    # registrant cannot make the server send requests to its own loopback services.
    allow_loopback_targets: bool = True


URI_PROBLEMS = {
    "fragment": "must not contain a fragment",
    "absolute": "must be an absolute https URL",
    "https": "must use https (http only for loopback addresses)",
    "credentials": "must not contain credentials",
}


def uri_problem(uri: str, *, allow_http_loopback: bool = True) -> str | None:
    """What is wrong with `uri` as a registered address (a key of URI_PROBLEMS), or None."""
    try:
        parts = urlsplit(uri)
        hostname = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return "absolute"
    if parts.fragment or "#" in uri:
        return "fragment"
    if not parts.netloc or parts.scheme not in ("https", "http"):
        return "absolute"
    if parts.scheme == "http" and not (allow_http_loopback and hostname in LOOPBACK_HOSTS):
        return "https"
    if parts.username or parts.password:
        return "credentials"
    return None


def validate_uri(uri: str, what: str, *, allow_http_loopback: bool = True) -> str:
    """Absolute https URI without fragment (http only for loopback, for development)."""
    problem = uri_problem(uri, allow_http_loopback=allow_http_loopback)
    if problem is not None:
        raise InvalidRedirectUri(f"{what} {URI_PROBLEMS[problem]}")
    return uri


def sector_of(spec: ClientSpec) -> str:
    if spec.sector_identifier_uri:
        validate_uri(
            spec.sector_identifier_uri,
            "sector_identifier_uri",
            allow_http_loopback=spec.allow_loopback_targets,
        )
        listed = set(spec.sector_redirect_uris or ())
        missing = [u for u in spec.redirect_uris if u not in listed]
        if missing:
            raise InvalidClientMetadata(
                "every redirect_uri must be listed in the sector_identifier_uri document"
            )
        return urlsplit(spec.sector_identifier_uri).hostname or ""
    hosts = {urlsplit(u).hostname or "" for u in spec.redirect_uris}
    if len(hosts) != 1:
        raise InvalidClientMetadata(
            "pairwise clients whose redirect URIs are on several hosts need a sector_identifier_uri"
        )
    return hosts.pop()


def _auth_method(spec: ClientSpec) -> str:
    method = spec.token_endpoint_auth_method or (
        "none"
        if spec.public
        else ("private_key_jwt" if spec.jwks or spec.jwks_uri else "client_secret_basic")
    )
    if method not in AUTH_METHODS:
        raise InvalidClientMetadata(f"token_endpoint_auth_method must be one of {AUTH_METHODS}")
    if spec.public != (method == "none"):
        raise InvalidClientMetadata("public clients use 'none'; confidential clients may not")
    if method == "private_key_jwt" and not (spec.jwks or spec.jwks_uri):
        raise InvalidClientMetadata("private_key_jwt needs jwks or jwks_uri")
    return method


def create_client(session: Session, spec: ClientSpec) -> tuple[Client, str | None]:
    """Register a client. Returns it and its secret (shown once; only its hash is kept)."""
    if not spec.name.strip():
        raise InvalidClientMetadata("name is required")
    if not spec.redirect_uris:
        raise InvalidClientMetadata("at least one redirect_uri is required")
    for uri in spec.redirect_uris:
        validate_uri(uri, "redirect_uri")
    for uri in spec.post_logout_redirect_uris:
        validate_uri(uri, "post_logout_redirect_uri")
    optional_uris = {
        "backchannel_logout_uri": spec.backchannel_logout_uri,
        "events_uri": spec.events_uri,
        "jwks_uri": spec.jwks_uri,
    }
    for what, optional in optional_uris.items():
        if optional:
            validate_uri(optional, what, allow_http_loopback=spec.allow_loopback_targets)
    if spec.subject_type not in SUBJECT_TYPES:
        raise InvalidClientMetadata(f"subject_type must be one of {SUBJECT_TYPES}")
    if spec.id_token_alg not in ID_TOKEN_ALGS:
        raise InvalidClientMetadata(f"id_token_signed_response_alg must be one of {ID_TOKEN_ALGS}")
    method = _auth_method(spec)
    secret = new_token(32) if method in ("client_secret_basic", "client_secret_post") else None
    client = Client(
        client_id="kc_" + secrets.token_urlsafe(16),
        name=spec.name.strip(),
        secret_hash=token_hash(secret) if secret else None,
        public=spec.public,
        token_endpoint_auth_method=method,
        redirect_uris=list(spec.redirect_uris),
        post_logout_redirect_uris=list(spec.post_logout_redirect_uris),
        backchannel_logout_uri=spec.backchannel_logout_uri,
        events_uri=spec.events_uri,
        subject_type=spec.subject_type,
        sector_identifier=sector_of(spec),
        sector_identifier_uri=spec.sector_identifier_uri,
        id_token_alg=spec.id_token_alg,
        jwks=spec.jwks,
        jwks_uri=spec.jwks_uri,
        purpose=spec.purpose,
        scope=spec.scope,
        created_at=utcnow(),
    )
    session.add(client)
    session.flush()
    return client, secret


# built once: every token, authorize and logout request reads its client (a prebuilt ORM
# select costs half of `session.get`, which builds its statement on each call)
_CLIENT = select(Client).where(Client.client_id == bindparam("client_id"))


def get_client(session: Session, client_id: str) -> Client | None:
    if not client_id or len(client_id) > 64:
        return None
    return session.execute(_CLIENT, {"client_id": client_id}).scalar_one_or_none()


_CLIENT_SNAPSHOT = Prepared(_CLIENT)


def read_client(session: Session, client_id: str) -> Client | None:
    """The client as `get_client` reads it, for reading only: a snapshot that no session
    knows (`core.Prepared`), so changing it saves nothing. For the endpoints every platform
    calls (authorize, token, verifier): a sixth of `get_client`'s cost."""
    if not client_id or len(client_id) > 64:
        return None
    row = _CLIENT_SNAPSHOT.first(session, {"client_id": client_id})
    return None if row is None else row[0]


def list_clients(session: Session) -> list[Client]:
    return list(session.scalars(select(Client).order_by(Client.created_at)))


def rotate_secret(session: Session, client: Client) -> str:
    if client.token_endpoint_auth_method not in ("client_secret_basic", "client_secret_post"):
        raise InvalidClientMetadata("this client does not authenticate with a secret")
    secret = new_token(32)
    client.secret_hash = token_hash(secret)
    session.flush()
    return secret


def secret_matches(client: Client, secret: str) -> bool:
    return client.secret_hash is not None and matches(secret, client.secret_hash)


def remove_client(session: Session, client: Client) -> None:
    session.delete(client)
    session.flush()


def describe(client: Client) -> dict[str, Any]:
    """Public metadata (RFC 7591 names), never the secret hash."""
    return {
        "client_id": client.client_id,
        "client_name": client.name,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "events_uri": client.events_uri,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "subject_type": client.subject_type,
        "sector_identifier": client.sector_identifier,
        "id_token_signed_response_alg": client.id_token_alg,
        "purpose": client.purpose,
        "scope": client.scope,
        "created_at": client.created_at.isoformat(),
    }
