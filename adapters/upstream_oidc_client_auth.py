"""How Kluis's client authenticates at the DigiD broker's token endpoint (OpenID Connect Core
1.0 §9), one of:
- `client_secret_basic` (RFC 6749 §2.3.1): the client id and secret, form-urlencoded, in HTTP
  Basic credentials;
- `private_key_jwt` (RFC 7523 §2.2 and §3, OIDC Core §9): a JWT Kluis signs with its own key,
  whose public half the broker holds: `iss` and `sub` the client id, `aud` the broker (its
  issuer identifier, or, for brokers that want it, the token endpoint URL), a fresh `jti`, `iat`
  and an `exp` `ASSERTION_LIFETIME_S` later; RS256 with an RSA key of at least 2048 bits, ES256
  with a P-256 key;
- `tls_client_auth` (RFC 8705 §2.1): the client certificate of the TLS connection
  (`adapters.tls.client_tls`), bound to the client at the broker; the request names the client
  id and carries no secret. The token request goes to the `mtls_endpoint_aliases` token
  endpoint when the broker's metadata names one (RFC 8705 §5).

The secret and the private key never appear in a `repr`, a log record or an exception.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from core import b64url

ClientAuthMethod = Literal["client_secret_basic", "private_key_jwt", "tls_client_auth"]
AssertionAudience = Literal["issuer", "token_endpoint"]
CLIENT_AUTH_METHODS: tuple[ClientAuthMethod, ...] = (
    "client_secret_basic",
    "private_key_jwt",
    "tls_client_auth",
)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"  # RFC 7523 §2.2
ASSERTION_LIFETIME_S = 60  # short: the broker must keep each jti until it expires
MIN_RSA_BITS = 2048


class AssertionKeyError(ValueError):
    """The private key for `private_key_jwt` cannot be used; the message names the file."""


@dataclass(frozen=True)
class AssertionKey:
    """Kluis's signing key for client assertions, its algorithm and its `kid` (by default the
    RFC 7638 thumbprint of the public key, which the broker can compute from the JWK too)."""

    private_key: Any = field(repr=False)
    alg: Literal["RS256", "ES256"]
    kid: str

    @classmethod
    def from_pem_file(cls, path: Path, kid: str = "") -> AssertionKey:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise AssertionKeyError(f"key file {path} cannot be read ({exc.strerror})") from None
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise AssertionKeyError(
                f"key file {path} holds no unencrypted PEM private key"
            ) from None
        return cls.of(key, kid, where=f"key file {path}")

    @classmethod
    def of(cls, key: Any, kid: str = "", where: str = "the key") -> AssertionKey:
        alg: Literal["RS256", "ES256"]
        if isinstance(key, rsa.RSAPrivateKey):
            if key.key_size < MIN_RSA_BITS:
                raise AssertionKeyError(f"{where}: an RSA key needs {MIN_RSA_BITS} bits or more")
            alg = "RS256"
        elif isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            alg = "ES256"
        else:
            raise AssertionKeyError(f"{where}: not an RSA or EC P-256 private key")
        return cls(key, alg, kid or _thumbprint(_public_jwk(key, alg)))

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK, to register at the broker (`jwks` of the client)."""
        return {**_public_jwk(self.private_key, self.alg), "kid": self.kid, "use": "sig"}


def _public_jwk(key: Any, alg: str) -> dict[str, Any]:
    family = jwt.algorithms.ECAlgorithm if alg == "ES256" else jwt.algorithms.RSAAlgorithm
    jwk: dict[str, Any] = family.to_jwk(key.public_key(), as_dict=True)
    jwk.pop("key_ops", None)  # with `use` (RFC 7517 §4.3: not both)
    return {**jwk, "alg": alg}


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 §3: SHA-256 over the required members, in lexicographic order, no spaces."""
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def client_assertion(
    key: AssertionKey, client_id: str, audience: str, now: float, jti: str | None = None
) -> str:
    """A `private_key_jwt` client assertion (RFC 7523 §3) for one token request."""
    issued = int(now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": jti or secrets.token_urlsafe(32),
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME_S,
    }
    return jwt.encode(claims, key.private_key, algorithm=key.alg, headers={"kid": key.kid})


@dataclass(frozen=True)
class ClientAuth:
    """The configured method and what it needs (checked when the upstream is configured)."""

    method: ClientAuthMethod
    client_id: str
    client_secret: str = field(default="", repr=False)
    assertion_key: AssertionKey | None = None
    assertion_audience: AssertionAudience = "issuer"

    def __post_init__(self) -> None:
        if self.method not in CLIENT_AUTH_METHODS:
            raise ValueError(f"client authentication must be one of {CLIENT_AUTH_METHODS}")
        if self.method == "private_key_jwt" and self.assertion_key is None:
            raise ValueError("private_key_jwt needs a signing key")

    def metadata_problem(self, metadata: dict[str, Any]) -> str | None:
        """What in the broker's discovery document rules this method out, if anything."""
        methods = metadata.get("token_endpoint_auth_methods_supported")
        if methods is not None and (not isinstance(methods, list) or self.method not in methods):
            return f"token_endpoint_auth_methods_supported lacks {self.method}"
        algs = metadata.get("token_endpoint_auth_signing_alg_values_supported")
        key = self.assertion_key
        if key is None or self.method != "private_key_jwt" or algs is None:
            return None
        if not isinstance(algs, list) or key.alg not in algs:
            return f"token_endpoint_auth_signing_alg_values_supported lacks {key.alg}"
        return None

    def token_endpoint(self, metadata: dict[str, Any]) -> str:
        """Where the token request goes: the mTLS alias with `tls_client_auth` (RFC 8705 §5)."""
        aliases = metadata.get("mtls_endpoint_aliases")
        if self.method == "tls_client_auth" and isinstance(aliases, dict):
            alias = aliases.get("token_endpoint")
            if isinstance(alias, str) and alias:
                return alias
        endpoint: str = metadata["token_endpoint"]
        return endpoint

    def token_request(
        self, issuer: str, token_endpoint: str, now: float
    ) -> tuple[dict[str, str], httpx.BasicAuth | None]:
        """The form parameters and the HTTP authentication that authenticate the request."""
        if self.method == "client_secret_basic":
            # RFC 6749 §2.3.1: both halves of the Basic credentials are form-urlencoded first
            user, password = quote(self.client_id, safe=""), quote(self.client_secret, safe="")
            return {}, httpx.BasicAuth(user, password)
        if self.method == "tls_client_auth":
            return {"client_id": self.client_id}, None
        assert self.assertion_key is not None
        audience = issuer if self.assertion_audience == "issuer" else token_endpoint
        assertion = client_assertion(self.assertion_key, self.client_id, audience, now)
        form = {
            "client_id": self.client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        }
        return form, None
