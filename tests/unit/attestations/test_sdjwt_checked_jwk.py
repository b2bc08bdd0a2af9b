"""A Holder's key is checked once, where it enters (the credential endpoint's key proof), as a
`CheckedJwk`; the Issuer then binds credentials to it without checking it again. A plain JWK is
checked on every issuance, as before."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from attestations.config import AttestationConfig
from attestations.credential import check_proof
from attestations.errors import InvalidProof
from attestations.sdjwt import (
    CheckedJwk,
    IssuanceError,
    checked_jwk,
    issue_sd_jwt,
    public_jwk,
)
from attestations.sdjwt import jwk as jwk_module
from tests.support.wallet import Wallet

ISSUER_KEY = ec.generate_private_key(ec.SECP256R1())
HOLDER_KEY = ec.generate_private_key(ec.SECP256R1())
HOLDER_JWK = public_jwk(HOLDER_KEY.public_key())
ISSUER = "https://kluis.example"


def _issue(holder: Any) -> dict[str, Any]:
    issued = issue_sd_jwt(
        {"iss": ISSUER, "postcode_area": "1087"},
        issuer_key=ISSUER_KEY,
        disclosable=[("postcode_area",)],
        holder_key=holder,
        iat=1_700_000_000,
    )
    payload: dict[str, Any] = issued.payload
    return payload


def test_a_checked_jwk_is_the_minimal_jwk_of_the_key_however_it_is_given() -> None:
    with_extras = {**HOLDER_JWK, "use": "sig", "kid": "wallet-1", "alg": "ES256"}
    for given in (HOLDER_JWK, with_extras, HOLDER_KEY.public_key(), HOLDER_KEY):
        checked = checked_jwk(given, IssuanceError)
        assert type(checked) is CheckedJwk
        assert checked == HOLDER_JWK


@pytest.mark.parametrize(
    "bad",
    [
        {**HOLDER_JWK, "p": "AQ", "q": "AQ"},  # private members (a "d" would be dropped)
        {**HOLDER_JWK, "crv": "P-192"},
        {**HOLDER_JWK, "x": HOLDER_JWK["y"]},  # (y, y) is not on the curve
        {**HOLDER_JWK, "y": "AQAB"},  # the wrong length
        {"kty": "oct", "k": "c2VjcmV0"},
    ],
)
def test_a_key_that_fails_the_checks_gives_no_checked_jwk(bad: dict[str, str]) -> None:
    with pytest.raises(IssuanceError):
        checked_jwk(bad, IssuanceError)


def test_a_checked_jwk_cannot_be_made_or_changed_but_by_checked_jwk() -> None:
    for make in (
        lambda: CheckedJwk({**HOLDER_JWK, "x": HOLDER_JWK["y"]}),
        lambda: CheckedJwk.__new__(CheckedJwk, {}),
        lambda: CheckedJwk.fromkeys(HOLDER_JWK, "AQ"),
    ):
        with pytest.raises(TypeError):
            make()
    checked = checked_jwk(HOLDER_JWK, IssuanceError)
    changes = [
        lambda c: c.__setitem__("x", HOLDER_JWK["y"]),
        lambda c: c.__delitem__("y"),
        lambda c: c.update(x=HOLDER_JWK["y"]),
        lambda c: c.setdefault("d", "AQ"),
        lambda c: c.pop("x"),
        lambda c: c.popitem(),
        lambda c: c.clear(),
        lambda c: c.__ior__({"x": HOLDER_JWK["y"]}),
        lambda c: c.__init__({"x": HOLDER_JWK["y"]}),
    ]
    for change in changes:
        with pytest.raises(TypeError):
            change(checked)
    assert checked == HOLDER_JWK


def test_copies_of_a_checked_jwk_are_plain_dicts_checked_again_when_used() -> None:
    checked = checked_jwk(HOLDER_JWK, IssuanceError)
    for made in (copy.copy(checked), copy.deepcopy(checked), pickle.loads(pickle.dumps(checked))):
        assert type(made) is dict and made == HOLDER_JWK
        made["x"] = HOLDER_JWK["y"]  # a plain dict may change, and is checked when issued to
        with pytest.raises(IssuanceError):
            _issue(made)


def test_an_issuer_binds_to_a_checked_jwk_as_to_the_jwk_without_checking_it_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked = checked_jwk(HOLDER_JWK, IssuanceError)
    plain_cnf = _issue(dict(HOLDER_JWK))["cnf"]
    checked_cnf = _issue(checked)["cnf"]
    assert checked_cnf == plain_cnf == {"jwk": HOLDER_JWK}
    assert type(checked_cnf["jwk"]) is dict  # the payload holds its own copy
    checked_cnf["jwk"]["x"] = "changed"
    assert checked == HOLDER_JWK

    def no_more_checks(*args: Any) -> Any:
        raise AssertionError("checked again")

    monkeypatch.setattr(jwk_module, "_coordinates", no_more_checks)
    assert _issue(checked)["cnf"] == {"jwk": HOLDER_JWK}
    with pytest.raises(AssertionError, match="checked again"):
        _issue(dict(HOLDER_JWK))


def test_the_credential_endpoint_checks_the_proof_key_once_as_a_checked_jwk() -> None:
    config = AttestationConfig(issuer=ISSUER)
    now = dt.datetime.now(dt.UTC)
    extras = {"kid": "wallet-1", "use": "sig"}
    proof = Wallet.proof(HOLDER_KEY, ISSUER, "a-c-nonce", headers={})
    found = check_proof(proof, config, now)
    assert type(found.jwk) is CheckedJwk and found.jwk == HOLDER_JWK
    assert found.nonce == "a-c-nonce"
    # the key's other members never reach cnf.jwk
    with_extras = Wallet.proof(
        HOLDER_KEY,
        ISSUER,
        "a-c-nonce",
        headers={"jwk": {**HOLDER_JWK, **extras}},
    )
    assert check_proof(with_extras, config, now).jwk == HOLDER_JWK
    off_curve = Wallet.proof(
        HOLDER_KEY, ISSUER, "a-c-nonce", headers={"jwk": {**HOLDER_JWK, "x": HOLDER_JWK["y"]}}
    )
    with pytest.raises(InvalidProof):
        check_proof(off_curve, config, now)
