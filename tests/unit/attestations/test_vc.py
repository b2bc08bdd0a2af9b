from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from attestations import vc
from attestations.config import AttestationConfig
from attestations.errors import (
    CredentialRejected,
    CredentialRevoked,
    NotAKluisCredential,
    StatusUnavailable,
)
from attestations.models import StatusList
from attestations.sdjwt import HeldSdJwt, issue_sd_jwt
from attestations.sdjwt.encoding import b64url_decode
from attestations.sdjwt.errors import MalformedSdJwt
from attestations.statuslist import SUSPENDED, StatusReference, record_issued, revoke_credential
from attestations.types import TYPES
from attestations.vc import DAY_SECONDS, day_floor, issue_vc, verify_vc
from core.db import utcnow
from keys import Keyring, SubjectKeys
from tests.conftest import TEST_ISSUER
from tests.support.attestations import INPUTS, holder_jwk, holder_key, make_account

CONFIG = AttestationConfig(TEST_ISSUER)
NONCE = "n-0S6_WzA2Mj"
AUDIENCE = "https://buurtplatform.example"


def issue(
    session: Session,
    keyring: Keyring,
    account: str,
    type_id: str = "postcode",
    key: ec.EllipticCurvePrivateKey | None = None,
    now: dt.datetime | None = None,
) -> tuple[str, ec.EllipticCurvePrivateKey, str]:
    moment = now or utcnow()
    ctype = TYPES[type_id]
    row = record_issued(
        session,
        CONFIG,
        account_id=account,
        type_id=type_id,
        issued_at=moment,
        expires_at=moment + ctype.validity,
    )
    key = key or holder_key()
    claims = ctype.claims_from(INPUTS[type_id], moment.date())
    ref = StatusReference(CONFIG.status_uri(row.status_list_id), row.status_idx)
    credential = issue_vc(
        session, keyring, CONFIG, ctype, claims, holder_jwk=holder_jwk(key), status=ref, now=moment
    )
    return credential, key, row.id


def present(credential: str, key: ec.EllipticCurvePrivateKey, *paths: tuple[Any, ...]) -> str:
    return HeldSdJwt.parse(credential).present(
        paths, holder_key=key, nonce=NONCE, audience=AUDIENCE
    )


def verify(session: Session, keyring: Keyring, presentation: str, **kw: Any) -> Any:
    return verify_vc(presentation, session, keyring, NONCE, AUDIENCE, issuer=TEST_ISSUER, **kw)


@pytest.fixture
def account(session: Session, subject_keys: SubjectKeys) -> str:
    return make_account(session, subject_keys)


def payload_of(credential: str) -> dict[str, Any]:
    body = credential.split("~")[0].split(".")[1]
    result: dict[str, Any] = json.loads(b64url_decode(body, MalformedSdJwt))
    return result


def test_issued_vc_has_the_sd_jwt_vc_shape(
    session: Session, keyring: Keyring, account: str
) -> None:
    credential, key, _ = issue(session, keyring, account)
    held = HeldSdJwt.parse(credential)
    payload = payload_of(credential)

    assert held.header["typ"] == "dc+sd-jwt" and held.header["alg"] == "ES256"
    assert held.header["kid"] == keyring.active_key(session, "ES256")
    assert payload["iss"] == TEST_ISSUER
    assert payload["vct"] == f"{TEST_ISSUER}/vct/postcode"
    assert payload["iat"] % DAY_SECONDS == 0 and payload["exp"] % DAY_SECONDS == 0
    assert payload["cnf"] == {"jwk": holder_jwk(key)}
    assert set(payload["status"]["status_list"]) == {"idx", "uri"}
    assert not {"postcode", "postcode_area", "municipality", "residence_source"} & set(payload)
    assert held.claims["municipality"] == {"code": "GM0363", "name": "Amsterdam"}


def test_issue_present_verify_discloses_only_what_the_holder_chose(
    session: Session, keyring: Keyring, account: str
) -> None:
    credential, key, _ = issue(session, keyring, account)

    result = verify(session, keyring, present(credential, key, ("postcode_area",)))

    assert result.type_id == "postcode"
    assert result.claims == {"postcode_area": "1087"}
    assert result.holder_jwk == holder_jwk(key)


@pytest.mark.parametrize("type_id", sorted(TYPES))
def test_every_type_round_trips(
    session: Session, keyring: Keyring, account: str, type_id: str
) -> None:
    credential, key, _ = issue(session, keyring, account, type_id)
    everything = [
        (name,)
        for name in HeldSdJwt.parse(credential).claims
        if name in {p[0] for p in TYPES[type_id].disclosable}
    ]
    result = verify(session, keyring, present(credential, key, *everything))
    assert set(result.claims) == {p[0] for p in TYPES[type_id].disclosable}


def test_a_revoked_credential_is_rejected(session: Session, keyring: Keyring, account: str) -> None:
    credential, key, issued_id = issue(session, keyring, account, "age")
    presentation = present(credential, key, ("age_over_18",))
    verify(session, keyring, presentation)

    revoke_credential(session, issued_id, "operator", "operator:cli")

    with pytest.raises(CredentialRevoked):
        verify(session, keyring, presentation)


def test_wrong_nonce_audience_or_holder_key_is_rejected(
    session: Session, keyring: Keyring, account: str
) -> None:
    credential, key, _ = issue(session, keyring, account, "age")
    held = HeldSdJwt.parse(credential)
    for kwargs in (
        {"holder_key": key, "nonce": "other", "audience": AUDIENCE},
        {"holder_key": key, "nonce": NONCE, "audience": "https://evil.example"},
        {"holder_key": holder_key(), "nonce": NONCE, "audience": AUDIENCE},
    ):
        with pytest.raises(CredentialRejected):
            verify(session, keyring, held.present([("age_over_18",)], **kwargs))
    with pytest.raises(CredentialRejected, match="KB"):
        verify(session, keyring, held.present([("age_over_18",)]))


def test_an_expired_credential_is_rejected(
    session: Session, keyring: Keyring, account: str
) -> None:
    credential, key, _ = issue(session, keyring, account, "age")
    later = utcnow() + dt.timedelta(days=367)
    with pytest.raises(CredentialRejected) as caught:
        verify(session, keyring, present(credential, key, ("age_over_18",)), now=later)
    assert caught.value.code == "expired"


def _foreign(session: Session, keyring: Keyring, **overrides: Any) -> tuple[str, Any]:
    """A credential signed with Kluis's key but built by hand, to test the VC-level checks."""
    kid, issuer_key = keyring.signing_key(session, "ES256")
    key = holder_key()
    now = int(utcnow().timestamp())
    claims: dict[str, Any] = {
        "iss": TEST_ISSUER,
        "vct": f"{TEST_ISSUER}/vct/age",
        "exp": now + 3600,
        "status": {"status_list": {"idx": 0, "uri": f"{TEST_ISSUER}/status/none"}},
        "age_over_18": True,
    }
    claims.update(overrides.pop("claims", {}))
    options: dict[str, Any] = {
        "issuer_key": issuer_key,
        "kid": kid,
        "holder_key": key.public_key(),
        "disclosable": [("age_over_18",)],
    }
    options.update(overrides)
    return issue_sd_jwt(claims, **options).serialize(), key


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"typ": "example+sd-jwt"}, CredentialRejected),
        ({"claims": {"vct": f"{TEST_ISSUER}/vct/passport"}}, NotAKluisCredential),
        ({"claims": {"vct": "https://elsewhere.example/vct/age"}}, NotAKluisCredential),
        ({"claims": {"iss": "https://elsewhere.example"}}, CredentialRejected),
        ({"disclosable": [("age_over_18",), ("status",)]}, CredentialRejected),
        ({"kid": "es256-unknown"}, CredentialRejected),
        ({"claims": {"status": {"other": {}}}}, StatusUnavailable),
        ({}, StatusUnavailable),  # a status list that does not exist
    ],
)
def test_vc_level_checks_reject(
    session: Session, keyring: Keyring, overrides: dict[str, Any], error: type[Exception]
) -> None:
    credential, key = _foreign(session, keyring, **overrides)
    held = HeldSdJwt.parse(credential)
    presentation = held.present([("age_over_18",)], holder_key=key, nonce=NONCE, audience=AUDIENCE)
    with pytest.raises(error):
        verify(session, keyring, presentation)


def test_a_credential_without_cnf_is_rejected(session: Session, keyring: Keyring) -> None:
    credential, _ = _foreign(session, keyring, holder_key=None)
    with pytest.raises(CredentialRejected):
        verify(session, keyring, HeldSdJwt.parse(credential).present([("age_over_18",)]))


# --- a batch is unlinkable -------------------------------------------------------------------


def test_a_batch_shares_no_salts_digests_indexes_or_exact_times(
    session: Session, keyring: Keyring, account: str
) -> None:
    batch = [issue(session, keyring, account, "postcode")[0] for _ in range(10)]
    held = [HeldSdJwt.parse(c) for c in batch]
    payloads = [payload_of(c) for c in batch]

    salts = [d.salt for h in held for d in h.disclosures]
    digests = [dg for p in payloads for dg in p["_sd"]]
    nested = [dg for h in held for dg in h.claims["municipality"].get("_sd", [])]
    indexes = [p["status"]["status_list"]["idx"] for p in payloads]
    assert len(set(salts)) == len(salts)
    assert len(set(digests)) == len(digests)
    assert not nested  # processed claims carry no digests
    assert len(set(indexes)) == len(indexes)
    assert all("jti" not in p for p in payloads)
    day = day_floor(utcnow())
    assert {p["iat"] for p in payloads} == {day}  # the day, shared with every resident
    assert len({json.dumps(p["cnf"]) for p in payloads}) == 10


# --- interoperability with the reference implementation --------------------------------------


def test_the_reference_verifier_accepts_an_issued_credential(
    session: Session, keyring: Keyring, account: str
) -> None:
    credential, key, _ = issue(session, keyring, account, "postcode")
    presentation = present(credential, key, ("postcode_area",), ("municipality", "name"))
    kid = HeldSdJwt.parse(credential).header["kid"]
    public = JWK.from_pyca(keyring.public_key(session, kid))

    def issuer_key(issuer: str, header: dict[str, Any]) -> JWK:
        assert issuer == TEST_ISSUER and header["kid"] == kid
        return public

    reference = SDJWTVerifier(presentation, issuer_key, AUDIENCE, NONCE)
    payload = reference.get_verified_payload()

    assert payload["postcode_area"] == "1087"
    assert payload["municipality"] == {"name": "Amsterdam"}
    assert "postcode" not in payload
    assert payload == verify(session, keyring, presentation).sd_jwt.claims


# --- the status of Kluis's own credential ------------------------------------------------------


def test_the_status_is_read_without_signing_a_status_list_token(
    session: Session, keyring: Keyring, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    credential, key, _ = issue(session, keyring, account, "age")

    def no_signing(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("a status list token was signed")

    monkeypatch.setattr(keyring, "sign_jwt", no_signing)
    assert verify(session, keyring, present(credential, key, ("age_over_18",))).type_id == "age"


def test_a_suspended_credential_is_rejected(
    session: Session, keyring: Keyring, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    credential, key, _ = issue(session, keyring, account, "age")
    monkeypatch.setattr(vc, "own_status", lambda *args: SUSPENDED)
    with pytest.raises(CredentialRevoked):
        verify(session, keyring, present(credential, key, ("age_over_18",)))


def test_a_database_fault_while_reading_the_status_is_not_hidden(
    session: Session, keyring: Keyring, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    credential, key, _ = issue(session, keyring, account, "age")
    presentation = present(credential, key, ("age_over_18",))
    real_execute = session.execute

    def failing_execute(statement: Any, *args: Any, **kwargs: Any) -> Any:
        # the one read of the list's size and the entry (`own_status`)
        if StatusList.__tablename__ in str(statement):
            raise OperationalError("SELECT status_lists", {}, ConnectionError("server gone"))
        return real_execute(statement, *args, **kwargs)

    monkeypatch.setattr(session, "execute", failing_execute)
    with pytest.raises(OperationalError):
        verify(session, keyring, presentation)
