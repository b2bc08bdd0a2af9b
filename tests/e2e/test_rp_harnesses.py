"""Self-tests of the independent relying parties the end-to-end tests drive Kluis with:
tests/e2e/node/rp.mjs (openid-client) and tests/support/authlib_rp.py (Authlib). They run
against the reference OP, node oidc-provider configured like Kluis and serving Kluis's form
contract (tests/support/oidc_provider.py), so the harnesses are known to be right before they
are pointed at Kluis's own provider."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet, OctKey, RSAKey

from tests.support import forms
from tests.support.authlib_rp import AuthlibSession, run_authlib_flow
from tests.support.node import NODE_RP_DIR, run_node, run_node_rp
from tests.support.oidc_provider import ReferenceOP, run_oidc_provider

REDIRECT_URI = "http://127.0.0.1:9/callback"
OTHER_SECTOR_REDIRECT_URI = "http://localhost:9/callback"
POST_LOGOUT_URI = "http://127.0.0.1:9/logged-out"
SECRET = "reference-op-client-secret-0123456789abcdef"
PASSWORD = "correct horse battery staple"
ACCOUNTS = 24

RP_KEY = RSAKey.generate_key(2048, parameters={"kid": "rp-1", "alg": "RS256"}, private=True)

CLIENTS: dict[str, dict[str, Any]] = {
    "client_secret_basic": {"client_secret": SECRET},
    "client_secret_post": {
        "client_secret": SECRET,
        "token_endpoint_auth_method": "client_secret_post",
    },
    "none": {"token_endpoint_auth_method": "none"},
    "private_key_jwt": {
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [RP_KEY.as_dict(private=False)]},
    },
}


def rp_credentials(auth: str) -> dict[str, Any]:
    if auth == "private_key_jwt":
        return {"private_jwk": RP_KEY.as_dict(private=True)}
    keep = ("client_secret", "token_endpoint_auth_method")
    return {k: v for k, v in CLIENTS[auth].items() if k in keep}


@pytest.fixture(scope="module")
def reference_op(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceOP]:
    clients = [
        {
            "client_id": auth,
            "redirect_uris": [REDIRECT_URI],
            "post_logout_redirect_uris": [POST_LOGOUT_URI],
            **metadata,
        }
        for auth, metadata in CLIENTS.items()
    ]
    clients.append(
        {
            "client_id": "other-sector",
            "client_secret": SECRET,
            "redirect_uris": [OTHER_SECTOR_REDIRECT_URI],
            "post_logout_redirect_uris": [POST_LOGOUT_URI],
        }
    )
    accounts = [
        {
            "email": f"resident{n}@example.org",
            "password": PASSWORD,
            "claims": {"name": f"Resident {n}", "given_name": "Resident", "family_name": str(n)},
        }
        for n in range(ACCOUNTS)
    ]
    with run_oidc_provider(
        tmp_path_factory.mktemp("reference-op"), clients=clients, accounts=accounts
    ) as op:
        yield op


_next_account = iter(range(ACCOUNTS))


def rp_config(op: ReferenceOP, auth: str = "client_secret_basic", **extra: Any) -> dict[str, Any]:
    # A fresh account per session: consent is then asked exactly once in every test.
    return {
        "issuer": op.issuer,
        "client_id": auth,
        "redirect_uri": REDIRECT_URI,
        "post_logout_redirect_uri": POST_LOGOUT_URI,
        "email": f"resident{next(_next_account)}@example.org",
        "password": PASSWORD,
        "claims_to_allow": ["email", "name"],
        **rp_credentials(auth),
        **extra,
    }


def node_rp(tmp_path: Path) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def run(config: dict[str, Any]) -> dict[str, Any]:
        report = run_node_rp(config, tmp_path)
        assert report["exit_code"] == (0 if report["ok"] else 1), report
        return report

    return run


@pytest.fixture(params=["openid-client", "authlib"])
def rp(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return node_rp(tmp_path) if request.param == "openid-client" else run_authlib_flow


def test_node_form_driver_and_id_token_signature_unit_tests_pass() -> None:
    done = run_node(NODE_RP_DIR, "--test", "forms.test.mjs", "rp.test.mjs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# fail 0" in done.stdout


@pytest.mark.parametrize("auth", CLIENTS)
def test_rp_completes_whole_session_with_consented_claims_only(
    rp: Callable[[dict[str, Any]], dict[str, Any]], auth: str, reference_op: ReferenceOP
) -> None:
    config = rp_config(reference_op, auth)
    result = rp(config)

    assert result["ok"], result
    assert result["token_endpoint_auth_method"] == auth
    assert result["pages"] == ["login", "consent"]
    assert result["consent"]["submitted"] == ["email", "name"]
    assert result["callback_iss"] == reference_op.issuer
    id_token = result["id_token"]
    assert id_token["header"]["alg"] == "RS256"
    assert id_token["claims"]["iss"] == reference_op.issuer
    assert id_token["claims"]["aud"] == auth
    sub = id_token["claims"]["sub"]
    # email_verified, given_name and family_name were offered but left unticked: they stay home
    resident = config["email"].removesuffix("@example.org").removeprefix("resident")
    assert result["userinfo"] == {
        "sub": sub,
        "email": config["email"],
        "name": f"Resident {resident}",
    }
    assert result["sso"] == {"straight_back": True, "same_sub": True}
    refresh = result["refresh"]
    assert refresh["ok"] and refresh["rotated"] and refresh["userinfo_sub_matches"]
    assert refresh["old_token_rejected"] and refresh["old_token_error"] == "invalid_grant"
    logout = result["logout"]
    assert logout["final_url"].startswith(POST_LOGOUT_URI + "?")
    assert logout["confirmed"] and logout["state_returned"]
    assert logout["session_ended"] and logout["prompt_none_error"] == "login_required"


def test_both_rps_see_one_pairwise_subject_per_sector(
    reference_op: ReferenceOP, tmp_path: Path
) -> None:
    config = rp_config(reference_op)
    by_node = node_rp(tmp_path)(config)
    by_authlib = run_authlib_flow(config)
    other_sector = run_authlib_flow(
        {**config, "client_id": "other-sector", "redirect_uri": OTHER_SECTOR_REDIRECT_URI}
    )
    subs = [r["id_token"]["claims"]["sub"] for r in (by_node, by_authlib, other_sector)]
    assert subs[0] == subs[1] != subs[2]


def test_rp_reports_a_wrong_password_at_the_login_page(
    rp: Callable[[dict[str, Any]], dict[str, Any]], reference_op: ReferenceOP
) -> None:
    result = rp(rp_config(reference_op, password="wrong password"))

    assert not result["ok"]
    assert result["error"]["step"] == "authorize"
    assert result["error"]["message"] == "login was rejected"
    assert "wrong password" in result["error"]["page"]


def test_rp_reports_denied_consent_as_access_denied(
    rp: Callable[[dict[str, Any]], dict[str, Any]], reference_op: ReferenceOP
) -> None:
    result = rp(rp_config(reference_op, decision="deny"))

    assert not result["ok"]
    assert result["error"]["step"] == "token"
    assert result["error"]["error"] == "access_denied"
    assert "id_token" not in result


# --- the Authlib RP's own ID token checks (no server) ------------------------------------------

OP_KEY = RSAKey.generate_key(2048, parameters={"kid": "op-1"}, private=True)
ISSUER = "http://127.0.0.1:1"


def id_token(key: Any = OP_KEY, alg: str = "RS256", **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "rp", "sub": "s", "nonce": "n", "iat": now, "exp": now + 60}
    claims.update(overrides)
    return jwt.encode({"alg": alg, "kid": "op-1"}, claims, key)


@pytest.fixture
def session() -> Iterator[AuthlibSession]:
    session = AuthlibSession({"issuer": ISSUER, "client_id": "rp"}, {"steps": []})
    session.keys = KeySet([RSAKey.import_key(OP_KEY.as_dict(private=False))])
    yield session
    session.close()


def test_authlib_rp_accepts_a_valid_id_token(session: AuthlibSession) -> None:
    claims, header = session.verify_id_token(id_token(), "access-token", "n")
    assert (claims["sub"], header["kid"]) == ("s", "op-1")


@pytest.mark.parametrize(
    ("token", "error"),
    [
        (lambda: id_token(key=RSAKey.generate_key(2048, private=True)), BadSignatureError),
        (
            lambda: id_token(key=OctKey.import_key(b"k" * 32), alg="HS256"),
            UnsupportedAlgorithmError,
        ),
        (lambda: id_token(aud="someone-else"), InvalidClaimError),
        (lambda: id_token(iss="http://evil.example"), InvalidClaimError),
        (lambda: id_token(nonce="replayed"), InvalidClaimError),
        (lambda: id_token(exp=int(time.time()) - 600), ExpiredTokenError),
    ],
    ids=["foreign-key", "hs256-confusion", "audience", "issuer", "nonce", "expired"],
)
def test_authlib_rp_refuses_a_forged_or_misdirected_id_token(
    session: AuthlibSession, token: Callable[[], str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        session.verify_id_token(token(), "access-token", "n")


# --- the Python form reader (no server) -------------------------------------------------------

KLUIS_CONSENT = """<form id="consent-form" method="post" action="/authorize/continue/p1">
  <input type="hidden" name="csrf_token" value="t&amp;1">
  <input type="checkbox" name="claims" value="email" checked disabled>
  <input type="hidden" name="claims" value="email">
  <input type="checkbox" name="claims" value="name">
  <input type="checkbox" name="claims" value="phone">
  <input type="hidden" name="ignored" value="x" disabled>
  <button type="submit" name="decision" value="allow">Toestaan</button>
  <button type="submit" name="decision" value="deny">Weigeren</button></form>"""


def test_consent_sends_essential_claims_once_the_chosen_ones_and_no_disabled_control() -> None:
    [form] = forms.parse_forms(KLUIS_CONSENT, "http://op/authorize/continue/p1")
    submission, report = forms.consent_submission(form, ["name", "email", "postcode"])

    assert submission.url == "http://op/authorize/continue/p1"
    assert submission.fields == [
        ("csrf_token", "t&1"),
        ("claims", "email"),
        ("claims", "name"),
        ("decision", "allow"),
    ]
    assert report == {
        "offered": ["email", "name", "phone"],
        "submitted": ["email", "name"],
        "not_offered": ["postcode"],
    }
    with pytest.raises(forms.FlowError, match="decision=maybe"):
        forms.consent_submission(form, None, decision="maybe")


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (  # oidc-provider: buttons outside the form, bound with form="…"
            '<form id="op.logoutForm" method="post" action="/session/end/confirm">'
            '<input type="hidden" name="xsrf" value="x1"></form>'
            '<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes</button>'
            '<button type="submit" form="op.logoutForm">No</button>',
            ("http://op/session/end/confirm", [("xsrf", "x1"), ("logout", "yes")]),
        ),
        (  # Kluis: decision=logout or decision=stay
            '<form id="logout-form" method="post" action="/logout/confirm">'
            '<input type="hidden" name="csrf_token" value="c">'
            '<input type="hidden" name="state" value="s">'
            '<button type="submit" name="decision" value="stay">Blijven</button>'
            '<button type="submit" name="decision" value="logout">Afmelden</button></form>',
            (
                "http://op/logout/confirm",
                [("csrf_token", "c"), ("state", "s"), ("decision", "logout")],
            ),
        ),
    ],
    ids=["oidc-provider", "kluis"],
)
def test_logout_confirmation_presses_the_button_that_says_yes(
    page: str, expected: tuple[str, list[tuple[str, str]]]
) -> None:
    submission = forms.logout_submission(forms.parse_forms(page, "http://op/session/end"))

    assert submission is not None
    assert (submission.url, submission.fields) == expected
