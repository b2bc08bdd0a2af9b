"""The authorization endpoint (OIDC Core §3.1.2, RFC 6749 §4.1, RFC 7636, RFC 9207).

Validation runs in two phases, as a table of small checks:
1. `client_id` and `redirect_uri`. If either is wrong we must not redirect (RFC 6749 §4.1.2.1):
   the resident sees an error page.
2. Everything else. Errors go back to the client's redirect URI with `error`, `state`, `iss`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, cast
from urllib.parse import urlencode

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.orm import Session

from core import (
    AccessDenied,
    InvalidRequest,
    InvalidScope,
    OAuthError,
    Prepared,
    UnsupportedResponseType,
    new_token,
    token_hash,
    utcnow,
)
from identity.accounts.roles import STEWARD, has_role
from identity.oidc.claims import (
    BY_NAME,
    RequestedClaims,
    parse_claims_parameter,
    requested_claims,
)
from identity.oidc.clients import read_client
from identity.oidc.models import AuthorizationCode, AuthorizationRequest, Client, Grant
from identity.oidc.pkce import PKCE_CHARSET
from identity.oidc.provider import SUPPORTED_ACRS, Provider

STEWARD_SCOPE = "steward"  # the steward API (rights/routes_steward.py)

PROMPTS = {"none", "login", "consent", "select_account"}
MAX_PARAM_LENGTH = 2048


class AuthorizeFatal(Exception):
    """The request cannot be answered by redirect (unknown client, bad redirect_uri)."""


class RequestNotSupported(OAuthError):
    error = "request_not_supported"


class RequestUriNotSupported(OAuthError):
    error = "request_uri_not_supported"


@dataclasses.dataclass
class AuthParams:
    client: Client
    redirect_uri: str
    raw: Mapping[str, str]
    state: str | None = None
    nonce: str | None = None
    scopes: set[str] = dataclasses.field(default_factory=set)
    code_challenge: str = ""
    prompt: set[str] = dataclasses.field(default_factory=set)
    max_age: int | None = None
    login_hint: str | None = None
    ui_locales: str | None = None
    acr_values: list[str] = dataclasses.field(default_factory=list)
    claims: RequestedClaims = dataclasses.field(
        default_factory=lambda: RequestedClaims(frozenset(), frozenset(), frozenset())
    )
    # ACRs that satisfy this request (from acr_values or an essential acr claim); [] = any
    required_acr: list[str] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "nonce": self.nonce,
            "scopes": sorted(self.scopes),
            "code_challenge": self.code_challenge,
            "prompt": sorted(self.prompt),
            "max_age": self.max_age,
            "login_hint": self.login_hint,
            "ui_locales": self.ui_locales,
            "acr_values": self.acr_values,
            "claims": self.claims.to_json(),
            "required_acr": self.required_acr,
        }

    @classmethod
    def from_json(cls, client: Client, data: Mapping[str, Any]) -> AuthParams:
        return cls(
            client=client,
            redirect_uri=data["redirect_uri"],
            raw={},
            state=data.get("state"),
            nonce=data.get("nonce"),
            scopes=set(data.get("scopes", ())),
            code_challenge=data["code_challenge"],
            prompt=set(data.get("prompt", ())),
            max_age=data.get("max_age"),
            login_hint=data.get("login_hint"),
            ui_locales=data.get("ui_locales"),
            acr_values=list(data.get("acr_values", ())),
            claims=RequestedClaims.from_json(data.get("claims", {})),
            required_acr=list(data.get("required_acr", ())),
        )


# -- phase 1: who is asking, and where would an answer go --------------------------------
def resolve_client(session: Session, raw: Mapping[str, str]) -> tuple[Client, str]:
    client = read_client(session, raw.get("client_id", ""))
    if client is None:
        raise AuthorizeFatal("unknown_client")
    redirect_uri = raw.get("redirect_uri", "")
    # Exact string comparison (RFC 9700 §4.1.3); OIDC makes redirect_uri required.
    if redirect_uri not in client.redirect_uris:
        raise AuthorizeFatal("invalid_redirect_uri")
    return client, redirect_uri


# -- phase 2: the checks, in order --------------------------------------------------------
def check_param_sizes(p: AuthParams, provider: Provider) -> None:
    for name, value in p.raw.items():
        if len(value) > MAX_PARAM_LENGTH:
            raise InvalidRequest(f"{name} is too long")


def check_request_objects(p: AuthParams, provider: Provider) -> None:
    if "request" in p.raw:
        raise RequestNotSupported("request objects are not supported")
    if "request_uri" in p.raw:
        raise RequestUriNotSupported("request_uri is not supported")


def check_response_type(p: AuthParams, provider: Provider) -> None:
    response_type = p.raw.get("response_type")
    if not response_type:
        raise InvalidRequest("response_type is required")
    if response_type != "code":
        raise UnsupportedResponseType("only the authorization code flow (response_type=code)")
    if p.raw.get("response_mode", "query") != "query":
        raise InvalidRequest("only response_mode=query is supported")


def check_scope(p: AuthParams, provider: Provider) -> None:
    requested = set(p.raw.get("scope", "").split())
    if "openid" not in requested:
        raise InvalidScope("the openid scope is required")
    allowed = set(p.client.scope.split()) | {"openid"}
    p.scopes = requested & allowed
    if "consent" not in p.prompt:
        # OIDC Core §11: offline_access is ignored unless prompt includes consent, so the
        # resident always explicitly agrees to access that outlives their session.
        p.scopes.discard("offline_access")


def check_pkce(p: AuthParams, provider: Provider) -> None:
    """RFC 7636 §4.3 with S256. RFC 9700 §2.1.1: a public client must use PKCE; a confidential
    OpenID Connect client may bind the code to its transaction with a `nonce` instead (the ID
    token carries it back, the client checks it). Then no code_verifier may follow at the token
    endpoint (§4.8.2, see `tokens.exchange_code`)."""
    challenge = p.raw.get("code_challenge")
    method = p.raw.get("code_challenge_method")
    if not challenge and method is None and p.nonce and not p.client.public:
        return
    if not challenge:
        raise InvalidRequest(
            "code_challenge is required (PKCE; or a nonce, for a confidential client)"
        )
    if method != "S256":
        raise InvalidRequest("code_challenge_method must be S256")
    if not 43 <= len(challenge) <= 128 or not set(challenge) <= PKCE_CHARSET:
        raise InvalidRequest("code_challenge is malformed")
    p.code_challenge = challenge


def check_prompt(p: AuthParams, provider: Provider) -> None:
    prompt = set(p.raw.get("prompt", "").split())
    if prompt - PROMPTS:
        raise InvalidRequest("unsupported prompt value")
    if "none" in prompt and len(prompt) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values")
    p.prompt = prompt


def check_max_age(p: AuthParams, provider: Provider) -> None:
    raw = p.raw.get("max_age")
    if raw is None or raw == "":
        return
    if not raw.isdigit():
        raise InvalidRequest("max_age must be a non-negative integer")
    p.max_age = int(raw)


def check_claims(p: AuthParams, provider: Provider) -> None:
    """The claims parameter may ask only for claims within the client's registered scopes."""
    parsed = parse_claims_parameter(p.raw.get("claims"))
    allowed = provider.claims.claims_for_scopes(set(p.client.scope.split())) | BY_NAME
    p.claims = requested_claims(provider.claims, p.scopes, parsed, allowed)


def essential_acr_values(raw_claims: str | None) -> list[str] | None:
    """OIDC Core §5.5.1.1: `acr` requested as an Essential Claim with `value` or `values`."""
    parsed = parse_claims_parameter(raw_claims)
    for member in ("id_token", "userinfo"):
        request = parsed.get(member, {}).get("acr")
        if not isinstance(request, Mapping) or request.get("essential") is not True:
            continue
        values = request.get("values", [request["value"]] if "value" in request else [])
        if isinstance(values, list) and values:
            return [v for v in values if isinstance(v, str)]
    return None


def check_acr(p: AuthParams, provider: Provider) -> None:
    """`acr_values` (§3.1.2.1) or an essential `acr` claim (§5.5.1.1) name the authentication
    contexts that satisfy the request. Kluis honours both: a session with a weaker context
    is sent to log in again. Unknown values are ignored, but an essential `acr` that Kluis
    cannot satisfy at all fails the request, as §5.5.1.1 asks."""
    essential = essential_acr_values(p.raw.get("claims"))
    if essential is not None:
        p.required_acr = [v for v in essential if v in SUPPORTED_ACRS]
        if not p.required_acr:
            raise AccessDenied("none of the essential acr values can be satisfied")
        return
    p.required_acr = [v for v in p.acr_values if v in SUPPORTED_ACRS]


def copy_hints(p: AuthParams, provider: Provider) -> None:
    p.state = p.raw.get("state") or None
    p.nonce = p.raw.get("nonce") or None
    p.login_hint = p.raw.get("login_hint") or None
    p.ui_locales = p.raw.get("ui_locales") or None
    p.acr_values = p.raw.get("acr_values", "").split()


CHECKS: tuple[Callable[[AuthParams, Provider], None], ...] = (
    copy_hints,  # first, so that every error can carry `state` back
    check_param_sizes,
    check_request_objects,
    check_response_type,
    check_prompt,
    check_scope,  # after prompt: offline_access depends on prompt=consent
    check_pkce,
    check_max_age,
    check_claims,
    check_acr,  # after claims: the claims parameter is known to be valid JSON
)


def validate(p: AuthParams, provider: Provider) -> AuthParams:
    for check in CHECKS:
        check(p, provider)
    return p


# -- responses ----------------------------------------------------------------------------
def redirect_with(redirect_uri: str, params: Mapping[str, str | None]) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}"


def error_redirect(p: AuthParams, issuer: str, error: OAuthError) -> str:
    return redirect_with(
        p.redirect_uri,
        {
            "error": error.error,
            "error_description": error.description,
            "state": p.state,
            "iss": issuer,  # RFC 9207
        },
    )


# -- pending interactions -----------------------------------------------------------------
def save_pending(
    session: Session,
    p: AuthParams,
    ttl: int,
    extra: Mapping[str, Any],
    account_id: str | None = None,
) -> AuthorizationRequest:
    """Store the request while the resident logs in or consents (one INSERT, with the
    logged-in resident's `account_id`, so that erasure finds it). `login_hint` is not kept:
    it is often an e-mail address, and it has already gone to the login page."""
    now = utcnow()
    row = AuthorizationRequest(
        id=new_token(24),
        client_id=p.client.client_id,
        account_id=account_id,
        params={**p.to_json(), "login_hint": None, **extra},
        created_at=now,
        expires_at=now + dt.timedelta(seconds=ttl),
    )
    session.add(row)
    session.flush()
    return row


def load_pending(session: Session, request_id: str) -> AuthorizationRequest | None:
    row = session.get(AuthorizationRequest, request_id) if len(request_id) <= 64 else None
    if row is None or row.completed_at is not None or row.expires_at <= utcnow():
        return None
    return row


# -- issuing the code ---------------------------------------------------------------------
_GRANTS = cast(Table, Grant.__table__)
_CODES = cast(Table, AuthorizationCode.__table__)
_INSERT_GRANT = Prepared(insert(_GRANTS))  # (`core.Prepared`: run on the driver)
_INSERT_CODE = Prepared(insert(_CODES))
# PostgreSQL: both rows in one statement (a data-modifying WITH), one round trip less per
# authorization; the code's foreign key is checked at the statement's end, when the grant
# is there. SQLite cannot put an INSERT in a WITH: two statements there.
_INSERT_GRANT_AND_CODE = Prepared(
    insert(_CODES)
    .values({column.name: bindparam(f"c_{column.name}") for column in _CODES.c})
    .add_cte(
        insert(_GRANTS)
        .values({column.name: bindparam(f"g_{column.name}") for column in _GRANTS.c})
        .cte("new_grant")
    )
)


def issue_code(
    session: Session,
    provider: Provider,
    p: AuthParams,
    *,
    account_id: str,
    sid: str,
    auth_time: dt.datetime,
    acr: str,
    amr: list[str],
) -> str:
    now = utcnow()
    if STEWARD_SCOPE in p.scopes and not has_role(session, account_id, STEWARD):
        p.scopes.discard(STEWARD_SCOPE)  # only ever granted to accounts with the role
    grant_id, code = new_token(24), new_token(32)
    grant = {
        "id": grant_id,
        "client_id": p.client.client_id,
        "account_id": account_id,
        "sid": sid,
        "scope": " ".join(sorted(p.scopes)),
        "claims": p.claims.to_json(),
        "nonce": p.nonce,
        "auth_time": auth_time,
        "acr": acr,
        "amr": amr,
        "created_at": now,
        "revoked_at": None,
    }
    code_row = {
        "code_hash": token_hash(code),
        "grant_id": grant_id,
        "client_id": p.client.client_id,
        "redirect_uri": p.redirect_uri,
        "code_challenge": p.code_challenge,
        "expires_at": now + dt.timedelta(seconds=provider.config.auth_code_ttl),
        "used_at": None,
    }
    # INSERTs (one on PostgreSQL, two on SQLite) in the caller's transaction, after its pending
    # changes (flushed first): the ORM's unit of work cost more than the statements. Every
    # column is given (the PostgreSQL form binds each one), so no column default applies.
    if session.get_bind().dialect.name == "postgresql":
        params: dict[str, Any] = {f"g_{k}": v for k, v in grant.items()}
        params.update({f"c_{k}": v for k, v in code_row.items()})
        _INSERT_GRANT_AND_CODE.rowcount(session, params)
    else:
        _INSERT_GRANT.rowcount(session, grant)
        _INSERT_CODE.rowcount(session, code_row)
    return redirect_with(
        p.redirect_uri, {"code": code, "state": p.state, "iss": provider.config.issuer}
    )
