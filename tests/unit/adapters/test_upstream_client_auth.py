"""Client authentication at the DigiD broker's token endpoint beyond a shared secret:
`private_key_jwt` (RFC 7523 §3, OpenID Connect Core §9) and `tls_client_auth` (RFC 8705 §2.1).
The assertion itself (its claims, header and algorithm), and what the token request carries,
checked by the fake broker of `test_upstream_oidc` that verifies the assertion as a broker would.
A real broker verifies it too: tests/e2e/test_upstream_oidc_broker.py."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwcrypto import jwk as jwcrypto_jwk

from adapters import AssertionKey, AssertionKeyError, OidcUpstream, UpstreamConfig
from adapters.upstream_oidc_client_auth import (
    ASSERTION_LIFETIME_S,
    ASSERTION_TYPE,
    client_assertion,
)
from adapters.upstream_oidc_tokens import UpstreamMisconfigured
from tests.unit.adapters.test_upstream_oidc import (
    BSN,
    CLIENT_ID,
    ISSUER,
    NOW,
    REDIRECT_URI,
    SECRET,
    Broker,
    Clock,
    start,
)

RSA_CLIENT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_CLIENT_KEY = ec.generate_private_key(ec.SECP256R1())


class AssertionBroker(Broker):
    """The fake broker, authenticating the client another way than by its secret: it verifies
    a `private_key_jwt` assertion against the registered public key (RS256 or ES256, `aud` its
    issuer or token endpoint, `iss` = `sub` = the client, valid now by the test's clock, each
    `jti` once), or takes `tls_client_auth` at its word (TLS is out of respx's reach: the real
    handshake is tested in test_brp_tls). Then it answers as the secret's broker would."""

    def __init__(self, router: respx.MockRouter, clock: Clock, registered: Any) -> None:
        super().__init__(router)
        self.clock = clock
        self.registered = registered
        self.requests: list[httpx.Request] = []
        self.assertions: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.jtis: set[str] = set()

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        form = dict(httpx.QueryParams(request.content.decode()))
        if "authorization" in request.headers or form.get("client_id") != CLIENT_ID:
            return self._json({"error": "invalid_client"}, 401)
        if "client_assertion" in form and (error := self._verify(form)):
            return self._json({"error": "invalid_client", "error_description": error}, 401)
        # authenticated: on to the code checks of the secret's broker
        pair = f"{quote(CLIENT_ID, safe='')}:{quote(SECRET, safe='')}"
        basic = {"authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
        rest = {k: v for k, v in form.items() if not k.startswith("client_")}
        return super()._token(httpx.Request("POST", request.url, data=rest, headers=basic))

    def _verify(self, form: dict[str, str]) -> str | None:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return "client_assertion_type"
        token = form["client_assertion"]
        try:
            claims = jwt.decode(
                token,
                self.registered,
                algorithms=["RS256", "ES256"],
                audience=[ISSUER, f"{ISSUER}/token"],
                issuer=CLIENT_ID,
                options={
                    "require": ["iss", "sub", "aud", "jti", "exp", "iat"],
                    "verify_exp": False,  # against the test's clock, below
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            return type(exc).__name__
        if claims["sub"] != CLIENT_ID:
            return "sub"
        if not claims["iat"] <= self.clock.now < claims["exp"]:
            return "expired"
        if claims["jti"] in self.jtis:
            return "jti replayed"
        self.jtis.add(claims["jti"])
        self.assertions.append((jwt.get_unverified_header(token), claims))
        return None


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def broker(clock: Clock) -> Iterator[AssertionBroker]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield AssertionBroker(router, clock, RSA_CLIENT_KEY.public_key())


def upstream(clock: Clock, **config: Any) -> OidcUpstream:
    settings = UpstreamConfig(
        issuer=ISSUER,
        client_id=CLIENT_ID,
        client_secret=config.pop("client_secret", ""),
        redirect_uri=REDIRECT_URI,
        **config,
    )
    return OidcUpstream(settings, clock=clock)


def decoded(token: str, key: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    claims = jwt.decode(
        token,
        key,
        algorithms=["RS256", "ES256"],
        audience=ISSUER,
        options={"verify_exp": False, "verify_iat": False},
    )
    return jwt.get_unverified_header(token), claims


def pem_file(tmp_path: Path, key: Any, password: bytes | None = None) -> Path:
    path = tmp_path / "assertion-key.pem"
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    return path


# --- the assertion --------------------------------------------------------------------------


def test_the_assertion_names_the_client_the_broker_and_a_fresh_jti() -> None:
    key = AssertionKey.of(RSA_CLIENT_KEY, "kluis-1")
    first = client_assertion(key, CLIENT_ID, ISSUER, NOW)
    second = client_assertion(key, CLIENT_ID, ISSUER, NOW)

    header, claims = decoded(first, RSA_CLIENT_KEY.public_key())
    assert header == {"alg": "RS256", "kid": "kluis-1", "typ": "JWT"}
    assert claims["iss"] == claims["sub"] == CLIENT_ID  # RFC 7523 §3 items 1 and 2
    assert claims["aud"] == ISSUER  # item 3
    assert claims["iat"] == int(NOW) and claims["exp"] == int(NOW) + ASSERTION_LIFETIME_S  # item 4
    assert ASSERTION_LIFETIME_S <= 300
    assert len(claims["jti"]) >= 32  # item 7: unguessable, and new every time
    assert decoded(second, RSA_CLIENT_KEY.public_key())[1]["jti"] != claims["jti"]
    with pytest.raises(jwt.InvalidSignatureError):
        decoded(first, rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())


def test_an_ec_p256_key_signs_es256_and_its_kid_is_the_rfc_7638_thumbprint() -> None:
    key = AssertionKey.of(EC_CLIENT_KEY)
    header, _ = decoded(client_assertion(key, CLIENT_ID, ISSUER, NOW), EC_CLIENT_KEY.public_key())

    pem = EC_CLIENT_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    thumbprint = jwcrypto_jwk.JWK.from_pem(pem).thumbprint()  # an independent implementation
    assert header["alg"] == "ES256" and key.kid == header["kid"] == thumbprint
    public = key.public_jwk()
    assert public["kid"] == thumbprint and public["alg"] == "ES256" and "d" not in public
    assert (
        AssertionKey.of(RSA_CLIENT_KEY).kid
        == jwcrypto_jwk.JWK.from_pem(
            RSA_CLIENT_KEY.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ).thumbprint()
    )


@pytest.mark.parametrize(
    ("key", "match"),
    [
        (rsa.generate_private_key(public_exponent=65537, key_size=1024), "2048 bits"),
        (ec.generate_private_key(ec.SECP384R1()), "not an RSA or EC P-256"),
        (ed25519.Ed25519PrivateKey.generate(), "not an RSA or EC P-256"),
    ],
)
def test_weak_or_unexpected_keys_are_refused(key: Any, match: str) -> None:
    with pytest.raises(AssertionKeyError, match=match):
        AssertionKey.of(key)


def test_a_key_file_is_read_once_and_never_shown(tmp_path: Path) -> None:
    path = pem_file(tmp_path, RSA_CLIENT_KEY)
    key = AssertionKey.from_pem_file(path, "kluis-1")
    assert key.alg == "RS256" and key.kid == "kluis-1"
    assert "PRIVATE" not in repr(key) and "RSAPrivateKey" not in repr(key)
    with pytest.raises(AssertionKeyError, match="cannot be read"):
        AssertionKey.from_pem_file(tmp_path / "nowhere.pem")
    with pytest.raises(AssertionKeyError, match="unencrypted PEM private key") as caught:
        AssertionKey.from_pem_file(pem_file(tmp_path, RSA_CLIENT_KEY, b"geheim"))
    assert "BEGIN" not in str(caught.value)


# --- the token request ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("audience", "aud"), [("issuer", ISSUER), ("token_endpoint", f"{ISSUER}/token")]
)
def test_private_key_jwt_logs_in_without_a_secret(
    broker: AssertionBroker, clock: Clock, audience: str, aud: str
) -> None:
    client = upstream(
        clock,
        client_auth="private_key_jwt",
        assertion_key=AssertionKey.of(RSA_CLIENT_KEY, "kluis-1"),
        assertion_audience=audience,
    )

    assert client.finish_login(*start(client, broker)).bsn == BSN

    (request,) = broker.requests
    form = dict(httpx.QueryParams(request.content.decode()))
    assert "authorization" not in request.headers and "client_secret" not in form
    assert form["client_assertion_type"] == ASSERTION_TYPE and form["client_id"] == CLIENT_ID
    ((header, claims),) = broker.assertions
    assert claims["aud"] == aud and header["kid"] == "kluis-1"
    client.close()


def test_every_token_request_gets_its_own_assertion(broker: AssertionBroker, clock: Clock) -> None:
    key = AssertionKey.of(RSA_CLIENT_KEY)
    client = upstream(clock, client_auth="private_key_jwt", assertion_key=key)
    for _ in range(2):
        client.finish_login(*start(client, broker))
        clock.now += 1
        broker.claims = {"exp": clock.now + 300, "iat": clock.now}
    assert len(broker.jtis) == 2
    client.close()


def test_an_assertion_signed_with_another_key_is_refused_as_misconfiguration(
    broker: AssertionBroker, clock: Clock
) -> None:
    stranger = AssertionKey.of(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    client = upstream(clock, client_auth="private_key_jwt", assertion_key=stranger)
    pending, callback = start(client, broker)
    with pytest.raises(UpstreamMisconfigured, match="invalid_client"):
        client.finish_login(pending, callback)
    client.close()


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("token_endpoint_auth_methods_supported", ["client_secret_basic"], "private_key_jwt"),
        ("token_endpoint_auth_signing_alg_values_supported", ["ES256"], "RS256"),
    ],
)
def test_a_broker_that_does_not_offer_the_method_is_refused_at_discovery(
    broker: AssertionBroker, clock: Clock, field: str, value: Any, match: str
) -> None:
    broker.metadata[field] = value
    key = AssertionKey.of(RSA_CLIENT_KEY)
    client = upstream(clock, client_auth="private_key_jwt", assertion_key=key)
    with pytest.raises(UpstreamMisconfigured, match=match):
        client.start_login()
    assert broker.requests == []
    client.close()


def test_tls_client_auth_names_the_client_and_uses_the_mtls_token_endpoint(
    broker: AssertionBroker, clock: Clock
) -> None:
    broker.metadata["token_endpoint_auth_methods_supported"] = ["tls_client_auth"]
    broker.metadata["mtls_endpoint_aliases"] = {"token_endpoint": f"{ISSUER}/token"}
    broker.metadata["token_endpoint"] = f"{ISSUER}/token-without-mtls"
    tls = ssl.create_default_context()
    client = upstream(clock, client_auth="tls_client_auth", tls=tls)

    assert client.finish_login(*start(client, broker)).bsn == BSN

    (request,) = broker.requests
    form = dict(httpx.QueryParams(request.content.decode()))
    assert request.url == f"{ISSUER}/token"  # RFC 8705 §5: the alias
    assert form["client_id"] == CLIENT_ID and "authorization" not in request.headers
    assert "client_assertion" not in form and "client_secret" not in form
    client.close()


def test_each_method_needs_what_it_uses() -> None:
    with pytest.raises(ValueError, match="signing key"):
        OidcUpstream(
            UpstreamConfig(
                issuer=ISSUER,
                client_id=CLIENT_ID,
                client_secret="",
                redirect_uri=REDIRECT_URI,
                client_auth="private_key_jwt",
            )
        )
    with pytest.raises(ValueError, match="TLS client certificate"):
        UpstreamConfig(
            issuer=ISSUER,
            client_id=CLIENT_ID,
            client_secret="",
            redirect_uri=REDIRECT_URI,
            client_auth="tls_client_auth",
        )
