"""The upstream DigiD login as relying party (adapters.upstream_oidc): every check of the
callback and the ID token has a test that the attack fails. The broker is faked with respx (no
network), its keys are generated here, and the clock is injected."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import inspect
import itertools
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from adapters.upstream_oidc import (
    OidcUpstream,
    PendingLogin,
    UpstreamConfig,
    UpstreamLogin,
)
from adapters.upstream_oidc_development import DevelopmentUpstream
from adapters.upstream_oidc_tokens import (
    ID_TOKEN_LEEWAY_S,
    AssuranceTooLow,
    BsnUnavailable,
    InvalidCallback,
    InvalidIdToken,
    LoginCancelled,
    LoginExpired,
    RepresentationRefused,
    UpstreamLoginError,
    UpstreamMisconfigured,
    UpstreamUnavailable,
)
from core import b64url

ISSUER = "https://broker.example/oidc"
CLIENT_ID = "kluis:gemeente"  # a ':' that client_secret_basic must form-urlencode
SECRET = "geheim met spatie/+&="
REDIRECT_URI = "https://kluis.example/upstream/callback"
ACCESS_TOKEN = "access-token-0123456789abcdefghijklmnop"
BSN = "999993653"
SUB = "pairwise-subject-1"
MIDDEN = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
NOW = 1_780_000_000.0
DROP = object()  # a claim or header to leave out

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    family = jwt.algorithms.ECAlgorithm if alg == "ES256" else jwt.algorithms.RSAAlgorithm
    return {**family.to_jwk(key.public_key(), as_dict=True), "kid": kid, "alg": alg, "use": "sig"}


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> bytes:
    def part(value: dict[str, Any]) -> str:
        return b64url(json.dumps(value).encode())

    return f"{part(header)}.{part(claims)}".encode()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class Broker:
    """A fake broker on respx routes. Tests change its metadata, keys, ID token claims or
    headers; it checks the token request (client_secret_basic, PKCE S256) like a real one and
    spends each code once."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.metadata: dict[str, Any] = {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/authorize",
            "token_endpoint": f"{ISSUER}/token",
            "userinfo_endpoint": f"{ISSUER}/userinfo",
            "jwks_uri": f"{ISSUER}/jwks",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
            "id_token_signing_alg_values_supported": ["RS256", "PS256", "ES256"],
            "authorization_response_iss_parameter_supported": True,
        }
        self.keys = [public_jwk(RSA_KEY, "rsa-1", "RS256"), public_jwk(EC_KEY, "ec-1", "ES256")]
        self.claims: dict[str, Any] = {}  # overrides of the ID token's claims
        self.header: dict[str, Any] = {}  # overrides of its header
        self.alg = "RS256"
        self.key: Any = RSA_KEY  # what the broker signs with
        self.token_error: tuple[int, str] | None = None
        self.userinfo: dict[str, Any] = {"sub": SUB, "bsn": BSN}
        self.challenge = self.nonce = ""
        self.spent: set[str] = set()
        url = ISSUER + "/.well-known/openid-configuration"
        self.discovery = router.get(url).mock(side_effect=lambda _: self._json(self.metadata))
        self.jwks = router.get(f"{ISSUER}/jwks").mock(
            side_effect=lambda _: self._json({"keys": self.keys})
        )
        self.token = router.post(f"{ISSUER}/token").mock(side_effect=self._token)
        self.userinfo_route = router.get(f"{ISSUER}/userinfo").mock(side_effect=self._userinfo)

    @staticmethod
    def _json(body: dict[str, Any], status: int = 200) -> httpx.Response:
        return httpx.Response(status, json=body)

    def authorized(self, url: str) -> dict[str, str]:
        """What the authorization endpoint would keep of this request."""
        params = dict(httpx.URL(url).params)
        self.challenge, self.nonce = params["code_challenge"], params["nonce"]
        return params

    def id_token(self, access_token: str = ACCESS_TOKEN) -> str:
        at_hash = b64url(hashlib.sha256(access_token.encode()).digest()[:16])
        claims = {"iss": ISSUER, "sub": SUB, "aud": CLIENT_ID, "exp": NOW + 300, "iat": NOW}
        claims |= {"nonce": self.nonce, "at_hash": at_hash, "acr": MIDDEN, "bsn": BSN}
        claims |= self.claims
        header = {"kid": "ec-1" if self.alg == "ES256" else "rsa-1"} | self.header
        claims = {k: v for k, v in claims.items() if v is not DROP}
        header = {k: v for k, v in header.items() if v is not DROP}
        return jwt.encode(claims, self.key, algorithm=self.alg, headers=header)

    def _token(self, request: httpx.Request) -> httpx.Response:
        if self.token_error:
            status, error = self.token_error
            return self._json({"error": error}, status)
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        client_id, _, secret = base64.b64decode(credentials).decode().partition(":")
        if scheme != "Basic" or (unquote(client_id), unquote(secret)) != (CLIENT_ID, SECRET):
            return self._json({"error": "invalid_client"}, 401)
        form = dict(httpx.QueryParams(request.content.decode()))
        verifier = form.get("code_verifier", "")
        challenge = b64url(hashlib.sha256(verifier.encode()).digest())
        if form.get("redirect_uri") != REDIRECT_URI or not hmac.compare_digest(
            challenge, self.challenge
        ):
            return self._json({"error": "invalid_grant"}, 400)
        if form["code"] in self.spent:
            return self._json({"error": "invalid_grant"}, 400)
        self.spent.add(form["code"])
        body = {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 300}
        return self._json({**body, "id_token": self.id_token()})

    def _userinfo(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return self._json({"error": "invalid_token"}, 401)
        return self._json(self.userinfo)


@pytest.fixture
def broker() -> Iterator[Broker]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield Broker(router)


@pytest.fixture
def clock() -> Clock:
    return Clock()


Factory = Callable[..., OidcUpstream]


@pytest.fixture
def upstream(broker: Broker, clock: Clock) -> Iterator[Factory]:
    made: list[OidcUpstream] = []

    def make(**config: Any) -> OidcUpstream:
        settings = UpstreamConfig(
            issuer=ISSUER,
            client_id=CLIENT_ID,
            client_secret=SECRET,
            redirect_uri=REDIRECT_URI,
            **config,
        )
        client = OidcUpstream(settings, clock=clock)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


_codes = itertools.count(1)


def start(client: OidcUpstream, broker: Broker) -> tuple[PendingLogin, dict[str, str]]:
    """start_login and the broker's answer: the pending login and a genuine callback."""
    url, pending = client.start_login()
    broker.authorized(url)
    return pending, {"code": f"code-{next(_codes)}", "state": pending.state, "iss": ISSUER}


def refused(client: OidcUpstream, broker: Broker, error: type[Exception], match: str) -> str:
    """A login through `broker` fails with `error`; returns the operator's message."""
    pending, callback = start(client, broker)
    with pytest.raises(error, match=match) as raised:
        client.finish_login(pending, callback)
    return str(raised.value)


def secrets_of(pending: PendingLogin, callback: dict[str, str]) -> list[str]:
    """What must never reach a log or an error message."""
    return [BSN, ACCESS_TOKEN, SECRET, callback["code"], pending.nonce, pending.code_verifier]


# -- the protocol and the development implementation -----------------------------------------


@pytest.mark.parametrize("implementation", [OidcUpstream, DevelopmentUpstream])
def test_each_upstream_takes_the_protocol_s_calls_with_the_same_signature(
    implementation: type,
) -> None:
    members = [n for n in vars(UpstreamLogin) if not n.startswith("_")]
    assert sorted(members) == ["finish_login", "start_login"]
    for name in members:
        want = inspect.signature(getattr(UpstreamLogin, name))
        got = inspect.signature(getattr(implementation, name))
        assert list(got.parameters.items()) == list(want.parameters.items())
        assert got.return_annotation == want.return_annotation


def test_development_upstream_warns_when_built_and_logs_in_the_test_bsn(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kluis.upstream_oidc"):
        development = DevelopmentUpstream(REDIRECT_URI, clock=clock)
    assert "development upstream login in use" in caplog.text
    url, pending = development.start_login()
    assert url.startswith(REDIRECT_URI + "?")
    identity = development.finish_login(pending, dict(httpx.URL(url).params))
    assert (identity.bsn, identity.subject) == ("999993653", "development")
    with pytest.raises(InvalidCallback):
        development.finish_login(pending, {"code": "development", "state": "forged"})
    clock.now += 601
    with pytest.raises(LoginExpired):
        development.finish_login(pending, dict(httpx.URL(url).params))
    with pytest.raises(BsnUnavailable):
        DevelopmentUpstream(REDIRECT_URI, "12345")


# -- discovery -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("issuer", "https://evil.example/oidc", "issuer differs"),
        ("issuer", ISSUER + "/", "issuer differs"),  # exactly, not normalised
        ("token_endpoint", "http://broker.example/oidc/token", "token_endpoint"),
        ("jwks_uri", None, "jwks_uri"),
        ("code_challenge_methods_supported", ["plain"], "S256"),
        ("token_endpoint_auth_methods_supported", ["private_key_jwt"], "client_secret_basic"),
    ],
)
def test_discovery_refuses_a_document_that_does_not_fit(
    broker: Broker, upstream: Factory, field: str, value: Any, match: str
) -> None:
    broker.metadata[field] = value
    with pytest.raises(UpstreamMisconfigured, match=match):
        upstream().start_login()


def test_discovery_and_jwks_are_cached_until_they_are_old(
    broker: Broker, upstream: Factory, clock: Clock
) -> None:
    client = upstream(metadata_max_age_s=3600)
    for _ in range(3):
        client.finish_login(*start(client, broker))
        broker.spent.clear()
    assert (broker.discovery.call_count, broker.jwks.call_count) == (1, 1)
    clock.now += 3601
    broker.claims = {"exp": clock.now + 300, "iat": clock.now}
    client.finish_login(*start(client, broker))
    assert (broker.discovery.call_count, broker.jwks.call_count) == (2, 2)


def test_unreachable_broker_is_unavailable_for_the_resident(
    broker: Broker, upstream: Factory
) -> None:
    broker.discovery.side_effect = httpx.ConnectError("refused")
    with pytest.raises(UpstreamUnavailable, match="ConnectError") as raised:
        upstream().start_login()
    assert "later opnieuw" in raised.value.resident_message()


# -- the authorization request ----------------------------------------------------------------


def test_start_login_sends_fresh_state_nonce_and_pkce_s256(
    broker: Broker, upstream: Factory
) -> None:
    broker.metadata["claims_parameter_supported"] = True
    client = upstream(scopes=("openid", "bsn"), acr_values=(MIDDEN,))
    (url1, pending1), (_, pending2) = client.start_login(ui_locales="nl"), client.start_login()
    params = dict(httpx.URL(url1).params)
    assert url1.startswith(f"{ISSUER}/authorize?")
    assert params["response_type"] == "code" and params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == REDIRECT_URI and params["scope"] == "openid bsn"
    assert params["state"] == pending1.state and params["nonce"] == pending1.nonce
    assert params["code_challenge_method"] == "S256"
    verifier = pending1.code_verifier.encode()
    assert params["code_challenge"] == b64url(hashlib.sha256(verifier).digest())
    assert 43 <= len(pending1.code_verifier) <= 128  # RFC 7636 §4.1
    assert params["acr_values"] == MIDDEN and params["ui_locales"] == "nl"
    assert json.loads(params["claims"]) == {"id_token": {"bsn": {"essential": True}}}
    assert pending1.created_at == NOW
    fresh = zip(dataclasses.astuple(pending1)[:3], dataclasses.astuple(pending2)[:3], strict=True)
    assert all(a != b for a, b in fresh)
    assert pending1.state not in repr(pending1) and pending1.code_verifier not in repr(pending1)
    assert PendingLogin(**dataclasses.asdict(pending1)) == pending1  # the caller stores it


# -- a login that works -----------------------------------------------------------------------


def test_finish_login_returns_the_bsn_without_logging_it(
    broker: Broker, upstream: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    client = upstream()
    pending, callback = start(client, broker)
    with caplog.at_level(logging.DEBUG):
        identity = client.finish_login(pending, callback)
    assert (identity.bsn, identity.subject, identity.acr) == (BSN, SUB, MIDDEN)
    assert BSN not in repr(identity) and SUB not in repr(identity)
    assert broker.token.call_count == 1 and broker.userinfo_route.call_count == 0
    assert not [s for s in secrets_of(pending, callback) if s in caplog.text]


@pytest.mark.parametrize(("alg", "key"), [("ES256", EC_KEY), ("PS256", RSA_KEY)])
def test_es256_and_ps256_id_tokens_are_accepted(
    broker: Broker, upstream: Factory, alg: str, key: Any
) -> None:
    broker.alg, broker.key = alg, key
    if alg == "PS256":
        broker.keys[0]["alg"] = "PS256"
    client = upstream()
    assert client.finish_login(*start(client, broker)).bsn == BSN


def test_clock_skew_within_the_leeway_is_accepted(broker: Broker, upstream: Factory) -> None:
    skew = ID_TOKEN_LEEWAY_S - 1
    broker.claims = {"exp": NOW - skew, "iat": NOW + skew, "nbf": NOW + skew}
    client = upstream()
    assert client.finish_login(*start(client, broker)).bsn == BSN


def test_bsn_from_userinfo_whose_subject_is_the_id_token_s(
    broker: Broker, upstream: Factory
) -> None:
    broker.claims = {"bsn": DROP}
    client = upstream(bsn_source="userinfo")
    assert client.finish_login(*start(client, broker)).bsn == BSN
    broker.userinfo = {"sub": "someone-else", "bsn": "111222333"}
    refused(client, broker, InvalidIdToken, "userinfo sub differs")


# -- attacks on the callback ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"state": "forged-state"}, InvalidCallback, "state"),
        ({"state": None}, InvalidCallback, "state"),
        ({"iss": "https://evil.example/oidc"}, InvalidCallback, "iss is not the broker"),
        ({"iss": None}, InvalidCallback, "lacks iss"),  # the broker says it always sends it
        ({"code": None}, InvalidCallback, "neither code nor error"),
        ({"code": None, "error": "access_denied"}, LoginCancelled, "access_denied"),
        ({"error": "temporarily_unavailable"}, UpstreamUnavailable, "temporarily_unavailable"),
        ({"error": "invalid_scope"}, UpstreamMisconfigured, "invalid_scope"),
    ],
    ids=[
        "wrong-state",
        "missing-state",
        "iss-mix-up",
        "missing-iss",
        "missing-code",
        "access-denied",
        "temporarily-unavailable",
        "invalid-scope",
    ],
)
def test_callback_is_refused_before_the_code_is_spent(
    broker: Broker,
    upstream: Factory,
    change: dict[str, str | None],
    error: type[Exception],
    match: str,
) -> None:
    client = upstream()
    pending, callback = start(client, broker)
    callback = {k: v for k, v in (callback | change).items() if v is not None}
    with pytest.raises(error, match=match):
        client.finish_login(pending, callback)
    assert broker.token.call_count == 0


def test_broker_error_is_told_to_the_resident_and_sanitised_for_the_operator(
    broker: Broker, upstream: Factory
) -> None:
    client = upstream()
    pending, callback = start(client, broker)
    callback = {
        "error": "access_denied",
        "error_description": 'Geannuleerd\n"door" gebruiker\x00',
        "state": pending.state,
        "iss": ISSUER,
    }
    with pytest.raises(LoginCancelled) as raised:
        client.finish_login(pending, callback)
    assert "Geannuleerddoor gebruiker" in str(raised.value)
    assert raised.value.resident_message("nl").startswith("Het inloggen met DigiD is afgebroken")
    assert raised.value.resident_message("en").startswith("Logging in with DigiD was cancelled")


def test_callback_without_iss_is_accepted_from_a_broker_that_never_sends_it(
    broker: Broker, upstream: Factory
) -> None:
    del broker.metadata["authorization_response_iss_parameter_supported"]
    client = upstream()
    pending, callback = start(client, broker)
    del callback["iss"]
    assert client.finish_login(pending, callback).bsn == BSN


def test_expired_pending_login_is_refused_without_asking_the_broker(
    broker: Broker, upstream: Factory, clock: Clock
) -> None:
    client = upstream(pending_max_age_s=600)
    pending, callback = start(client, broker)
    clock.now = NOW + 601
    with pytest.raises(LoginExpired, match="601 s old") as raised:
        client.finish_login(pending, callback)
    assert broker.token.call_count == 0
    assert "te lang" in raised.value.resident_message()


def test_replayed_pending_login_is_refused_when_the_broker_spent_its_code(
    broker: Broker, upstream: Factory
) -> None:
    # The caller deletes a pending login as it takes it; should a copy come back, the broker's
    # single-use code (RFC 6749 §4.1.2) refuses the replay and Kluis says it has expired.
    client = upstream()
    pending, callback = start(client, broker)
    client.finish_login(pending, callback)
    with pytest.raises(LoginExpired, match="invalid_grant"):
        client.finish_login(pending, callback)
    assert broker.token.call_count == 2


@pytest.mark.parametrize(
    ("status", "error", "raised"),
    [
        (400, "invalid_grant", LoginExpired),
        (401, "invalid_client", UpstreamMisconfigured),
        (503, "temporarily_unavailable", UpstreamUnavailable),
    ],
)
def test_token_endpoint_errors_are_named(
    broker: Broker, upstream: Factory, status: int, error: str, raised: type[Exception]
) -> None:
    broker.token_error = (status, error)
    refused(upstream(), broker, raised, f"HTTP {status} error='{error}'")


# -- attacks on the ID token ------------------------------------------------------------------


def hs256_with_public_key(broker: Broker) -> str:
    pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = jwt.decode(broker.id_token(), options={"verify_signature": False})
    signing_input = unsigned({"alg": "HS256", "kid": "rsa-1"}, claims)
    signature = hmac.new(pem, signing_input, hashlib.sha256).digest()
    return f"{signing_input.decode()}.{b64url(signature)}"


def alg_none(broker: Broker) -> str:
    claims = jwt.decode(broker.id_token(), options={"verify_signature": False})
    return unsigned({"alg": "none", "kid": "rsa-1"}, claims).decode() + "."


def wrong_signature(broker: Broker) -> str:
    header, payload, _ = broker.id_token().split(".")
    other = jwt.encode({"x": 1}, OTHER_RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    return f"{header}.{payload}.{other.split('.')[2]}"


@pytest.mark.parametrize(
    ("forge", "match"),
    [
        (wrong_signature, "signature invalid"),
        (alg_none, "algorithm not allowed"),
        (hs256_with_public_key, "algorithm not allowed"),
        (lambda b: b.id_token() + ".AAAA.BBBB", "encrypted ID tokens unsupported"),
    ],
    ids=["wrong-signature", "alg-none", "hs256-public-key-as-secret", "jwe"],
)
def test_forged_id_token_is_refused(
    broker: Broker, upstream: Factory, forge: Callable[[Broker], str], match: str
) -> None:
    client = upstream()
    pending, callback = start(client, broker)
    forged = forge(broker)
    broker.token.side_effect = lambda _: httpx.Response(
        200, json={"access_token": ACCESS_TOKEN, "token_type": "Bearer", "id_token": forged}
    )
    with pytest.raises(InvalidIdToken, match=match) as raised:
        client.finish_login(pending, callback)
    assert forged not in str(raised.value)


@pytest.mark.parametrize(
    ("claims", "header", "error", "match"),
    [
        ({"iss": "https://evil.example/oidc"}, {}, InvalidIdToken, "iss is not the broker"),
        ({"aud": "another-client"}, {}, InvalidIdToken, "aud does not contain"),
        ({"aud": [CLIENT_ID, "another"]}, {}, InvalidIdToken, "azp"),
        ({"aud": [CLIENT_ID, "x"], "azp": "x"}, {}, InvalidIdToken, "azp"),
        ({"exp": NOW - ID_TOKEN_LEEWAY_S - 1}, {}, InvalidIdToken, "expired"),
        ({"nbf": NOW + ID_TOKEN_LEEWAY_S + 1}, {}, InvalidIdToken, "not yet valid"),
        ({"iat": NOW + ID_TOKEN_LEEWAY_S + 1}, {}, InvalidIdToken, "issued in the future"),
        ({"exp": DROP}, {}, InvalidIdToken, "lacks exp or iat"),
        ({"nonce": "another-login-s-nonce"}, {}, InvalidIdToken, "nonce does not match"),
        ({"nonce": DROP}, {}, InvalidIdToken, "lacks the nonce"),
        ({"at_hash": b64url(b"\0" * 16)}, {}, InvalidIdToken, "at_hash does not match"),
        ({"sub": DROP}, {}, InvalidIdToken, "sub missing"),
        ({"acr": "urn:digid:basis"}, {}, AssuranceTooLow, "acr not accepted"),
        ({"represents": {"sub": "x", "iss": "y"}}, {}, RepresentationRefused, "represents"),
        ({}, {"kid": DROP}, InvalidIdToken, "no kid"),
        ({}, {"crit": ["exp"]}, InvalidIdToken, "header unreadable"),  # RFC 7515 §4.1.11
    ],
    ids=[
        "wrong-iss",
        "wrong-aud",
        "several-aud-without-azp",
        "azp-of-another-client",
        "expired",
        "nbf-in-the-future",
        "iat-in-the-future",
        "missing-exp",
        "wrong-nonce",
        "missing-nonce",
        "bad-at-hash",
        "missing-sub",
        "acr-too-low",
        "represents-someone-else",
        "no-kid-and-two-keys",
        "crit-header",
    ],
)
def test_id_token_that_fails_a_check_is_refused(
    broker: Broker,
    upstream: Factory,
    claims: dict[str, Any],
    header: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    broker.claims, broker.header = claims, header
    client = upstream(accepted_acr=(MIDDEN, "urn:digid:substantieel"))
    pending, callback = start(client, broker)
    with pytest.raises(error, match=match) as raised:
        client.finish_login(pending, callback)
    assert not [s for s in secrets_of(pending, callback) if s in str(raised.value)]


def test_key_of_the_wrong_type_for_the_algorithm_is_refused(
    broker: Broker, upstream: Factory
) -> None:
    broker.alg, broker.key, broker.header = "ES256", EC_KEY, {"kid": "rsa-1"}
    refused(upstream(), broker, InvalidIdToken, "alg differs from its key")
    del broker.keys[0]["alg"]
    refused(upstream(), broker, InvalidIdToken, "key type does not fit")


def test_unknown_kid_fetches_the_jwks_once_more_then_fails(
    broker: Broker, upstream: Factory
) -> None:
    broker.header = {"kid": "rotated-away"}
    refused(upstream(), broker, InvalidIdToken, "kid not in the broker's JWKS")
    assert broker.jwks.call_count == 2


def test_rotated_key_is_found_by_that_one_refetch(broker: Broker, upstream: Factory) -> None:
    client = upstream()
    client.finish_login(*start(client, broker))  # caches the JWKS
    broker.keys = [public_jwk(OTHER_RSA_KEY, "rsa-2", "RS256")]
    broker.key, broker.header = OTHER_RSA_KEY, {"kid": "rsa-2"}
    assert client.finish_login(*start(client, broker)).bsn == BSN
    assert broker.jwks.call_count == 2


# -- the BSN ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bsn",
    [DROP, "", "12345678", "1234567890", 999993653, "99999365a", " 999993653", "٩٩٩٩٩٣٦٥٣"],
    ids=["missing", "empty", "8-digits", "10-digits", "a-number", "letter", "space", "arabic"],
)
def test_bsn_claim_that_is_not_nine_digits_is_refused(
    broker: Broker, upstream: Factory, bsn: Any
) -> None:
    broker.claims = {"bsn": bsn}
    message = refused(upstream(), broker, BsnUnavailable, "BSN claim 'bsn'")
    assert str(bsn) not in message or bsn in ("", DROP)


def test_bsn_under_a_namespaced_claim_and_behind_digid_s_sector_code(
    broker: Broker, upstream: Factory
) -> None:
    claim = "urn:nl-eid-gdi:1.0:id:BSN"
    broker.claims = {"bsn": DROP, claim: f"s00000000:{BSN}"}
    client = upstream(bsn_claim=claim, bsn_sector_code="S00000000")
    assert client.finish_login(*start(client, broker)).bsn == BSN
    broker.claims[claim] = f"s00000001:{BSN}"  # a sofinummer, not a BSN
    refused(client, broker, BsnUnavailable, "lacks sector code")


def test_every_error_has_a_message_for_the_resident_in_both_languages() -> None:
    errors = [UpstreamLoginError, *UpstreamLoginError.__subclasses__()]
    errors += UpstreamUnavailable.__subclasses__()
    for error in errors:
        nl, en = error("x").resident_message("nl"), error("x").resident_message("en")
        assert nl != en and not nl.startswith("upstream.") and not en.startswith("upstream.")
