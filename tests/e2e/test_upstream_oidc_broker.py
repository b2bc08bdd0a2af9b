"""The upstream DigiD login (adapters.upstream_oidc) against a real OpenID Connect broker: node
oidc-provider (tests/support/oidc_provider.py), whose accounts carry a `bsn` claim, so it acts
like a municipality's broker (a `bsn` scope, the claims request parameter). A browser without
JavaScript is played by httpx and tests/support/forms.py: start_login → the broker's login and
consent pages → the redirect_uri with code, state and iss → finish_login. A second client of
the broker must authenticate with `private_key_jwt` (RFC 7523): oidc-provider verifies Kluis's
assertion against the public key registered for it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from adapters.upstream_oidc import OidcUpstream, PendingLogin, UpstreamConfig
from adapters.upstream_oidc_client_auth import AssertionKey
from adapters.upstream_oidc_tokens import (
    InvalidCallback,
    LoginCancelled,
    LoginExpired,
    UpstreamMisconfigured,
)
from tests.support import forms
from tests.support.oidc_provider import ReferenceOP, run_oidc_provider

pytestmark = pytest.mark.e2e

REDIRECT_URI = "http://127.0.0.1:9/upstream/callback"  # never served: the walk stops there
CLIENT_ID = "kluis"
SECRET = "upstream-broker-client-secret-0123456789abcdef"
PASSWORD = "correct horse battery staple"
BSN = "999993653"  # a test BSN (passes the elfproef)
ACCOUNTS = 14
JWT_CLIENT_ID = "kluis-private-key-jwt"
RSA_KEY = AssertionKey.of(rsa.generate_private_key(public_exponent=65537, key_size=2048), "rsa")
EC_KEY = AssertionKey.of(ec.generate_private_key(ec.SECP256R1()))

_next_account = iter(range(ACCOUNTS))


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceOP]:
    clients = [
        {"client_id": CLIENT_ID, "client_secret": SECRET, "redirect_uris": [REDIRECT_URI]},
        {
            "client_id": JWT_CLIENT_ID,
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "private_key_jwt",  # nothing else is accepted
            "jwks": {"keys": [RSA_KEY.public_jwk(), EC_KEY.public_jwk()]},
        },
    ]
    accounts = [
        {"email": f"resident{n}@example.org", "password": PASSWORD, "claims": {"bsn": BSN}}
        for n in range(ACCOUNTS)
    ]
    with run_oidc_provider(
        tmp_path_factory.mktemp("upstream-broker"), clients=clients, accounts=accounts
    ) as op:
        yield op


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        yield client


def upstream(op: ReferenceOP, http: httpx.Client, **config: Any) -> OidcUpstream:
    settings = UpstreamConfig(
        issuer=op.issuer,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        redirect_uri=REDIRECT_URI,
        allow_http=True,  # the broker listens on loopback without TLS
        **config,
    )
    return OidcUpstream(settings, http=http)


def log_in(client: OidcUpstream, decision: str = "allow") -> tuple[PendingLogin, dict[str, str]]:
    """start_login, then a fresh browser (a fresh account: consent is asked every time) through
    the broker's pages to the redirect_uri; returns the pending login and the callback query."""
    url, pending = client.start_login(ui_locales="nl")
    with httpx.Client(timeout=10) as browser:
        done = forms.authorize(
            browser,
            url,
            redirect_uri=REDIRECT_URI,
            email=f"resident{next(_next_account)}@example.org",
            password=PASSWORD,
            decision=decision,
        )
    return pending, dict(done.callback_url.params)


def test_bsn_comes_from_the_id_token_of_a_real_broker(
    broker: ReferenceOP, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    client = upstream(broker, http)
    pending, callback = log_in(client)
    assert callback["iss"] == broker.issuer  # RFC 9207: the broker names itself
    with caplog.at_level(logging.DEBUG):  # everything logged while Kluis talks to the broker
        identity = client.finish_login(pending, callback)
    assert identity.bsn == BSN
    assert identity.subject and identity.subject != BSN  # a pairwise pseudonym
    assert BSN not in repr(identity)
    assert caplog.records and not [
        secret for secret in (BSN, callback["code"], SECRET) if secret in caplog.text
    ]


def test_bsn_comes_from_userinfo_with_the_bsn_scope(
    broker: ReferenceOP, http: httpx.Client
) -> None:
    client = upstream(broker, http, scopes=("openid", "bsn"), bsn_source="userinfo")
    pending, callback = log_in(client)
    assert client.finish_login(pending, callback).bsn == BSN


def test_tampered_state_is_refused_before_the_code_is_spent(
    broker: ReferenceOP, http: httpx.Client
) -> None:
    client = upstream(broker, http)
    pending, callback = log_in(client)
    with pytest.raises(InvalidCallback, match="state"):
        client.finish_login(pending, {**callback, "state": callback["state"] + "A"})
    with pytest.raises(InvalidCallback, match="state"):
        client.finish_login(pending, {k: v for k, v in callback.items() if k != "state"})
    # the code was never sent to the broker, so the genuine callback still works
    assert client.finish_login(pending, callback).bsn == BSN


def test_replayed_callback_is_refused_by_the_broker(
    broker: ReferenceOP, http: httpx.Client
) -> None:
    client = upstream(broker, http)
    pending, callback = log_in(client)
    client.finish_login(pending, callback)
    with pytest.raises(LoginExpired, match="invalid_grant"):
        client.finish_login(pending, callback)


def test_resident_who_denies_consent_is_told_the_login_was_cancelled(
    broker: ReferenceOP, http: httpx.Client
) -> None:
    client = upstream(broker, http)
    pending, callback = log_in(client, decision="deny")
    assert callback["error"] == "access_denied" and "code" not in callback
    with pytest.raises(LoginCancelled) as raised:
        client.finish_login(pending, callback)
    assert "afgebroken" in raised.value.resident_message("nl")
    assert "cancelled" in raised.value.resident_message("en")


# -- private_key_jwt ---------------------------------------------------------------------------


def jwt_upstream(op: ReferenceOP, http: httpx.Client, **config: Any) -> OidcUpstream:
    settings = UpstreamConfig(
        issuer=op.issuer,
        client_id=JWT_CLIENT_ID,
        client_secret="",
        redirect_uri=REDIRECT_URI,
        allow_http=True,
        client_auth="private_key_jwt",
        **config,
    )
    return OidcUpstream(settings, http=http)


@pytest.mark.parametrize(
    ("key", "audience"), [(RSA_KEY, "issuer"), (EC_KEY, "token_endpoint")], ids=["RS256", "ES256"]
)
def test_a_broker_that_requires_private_key_jwt_accepts_kluis_s_assertion(
    broker: ReferenceOP,
    http: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    key: AssertionKey,
    audience: str,
) -> None:
    client = jwt_upstream(broker, http, assertion_key=key, assertion_audience=audience)
    pending, callback = log_in(client)
    with caplog.at_level(logging.DEBUG):
        identity = client.finish_login(pending, callback)
    assert identity.bsn == BSN
    assert BSN not in caplog.text and "client_assertion" not in caplog.text


def test_an_assertion_signed_with_an_unregistered_key_is_refused_by_the_broker(
    broker: ReferenceOP, http: httpx.Client
) -> None:
    stranger = AssertionKey.of(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    client = jwt_upstream(broker, http, assertion_key=stranger)
    pending, callback = log_in(client)
    with pytest.raises(UpstreamMisconfigured, match="invalid_client"):
        client.finish_login(pending, callback)


def test_the_secret_is_no_way_in_for_a_private_key_jwt_client(
    broker: ReferenceOP, http: httpx.Client
) -> None:
    settings = UpstreamConfig(
        issuer=broker.issuer,
        client_id=JWT_CLIENT_ID,
        client_secret=SECRET,
        redirect_uri=REDIRECT_URI,
        allow_http=True,
    )
    client = OidcUpstream(settings, http=http)
    pending, callback = log_in(client)
    with pytest.raises(UpstreamMisconfigured, match="invalid_client"):
        client.finish_login(pending, callback)
