"""SD-JWT VC interoperability with the OpenWallet Foundation's TypeScript library
``@sd-jwt/sd-jwt-vc`` (pinned in tests/e2e/sdjwt_node/, run with node), in both directions:

- a Kluis credential (``issue_vc``), presented by Kluis's Holder with a KB-JWT, is verified by
  their ``SDJwtVcInstance.verify``: issuer signature, disclosures, KB-JWT and sd_hash, and the
  Token Status List Kluis serves for it;
- a credential issued and presented (KB-JWT) by their library is verified by our
  ``verify_sd_jwt`` with a strict policy: typ ``dc+sd-jwt`` (their default), ES256 only,
  key binding required.

Differences found and handled here (see tests/e2e/sdjwt_node/verify.mjs):

- Their verifier does not check the JOSE ``typ`` of the credential, nor the KB-JWT ``aud``, nor
  the KB-JWT's age (only that ``iat`` is present); verify.mjs does those three itself.
- Their issuer puts no ``kid`` in the header, and their verifier takes one verification
  callback without the header: the key is resolved by the caller (here: the issuer's JWK,
  handed over). Kluis's own ``verify_vc`` resolves by ``kid`` and would not find such a key.
- Their issuer adds neither ``iat`` nor ``cnf``: issue.mjs sets both, as Kluis does.
- Pinned to 0.19.0: 0.20.0 depends on an ``@owf/token-status-list`` prerelease that the
  registry no longer serves, so it cannot be installed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.sdjwt import (
    HeldSdJwt,
    KeyBindingExpectation,
    SdJwtError,
    VerificationPolicy,
    public_jwk,
    verify_sd_jwt,
)
from attestations.statuslist import (
    StatusReference,
    record_issued,
    revoke_credential,
    status_list_token,
)
from attestations.types import TYPES
from attestations.vc import REGISTERED, issue_vc, verify_vc
from core.db import utcnow
from keys import Keyring, SubjectKeys
from tests.conftest import TEST_ISSUER
from tests.support.attestations import INPUTS, holder_jwk, holder_key, make_account
from tests.support.node import REPO, run_node

NODE_DIR = REPO / "tests" / "e2e" / "sdjwt_node"
CONFIG = AttestationConfig(TEST_ISSUER)
NONCE = "n-0S6_WzA2Mj-interop"
AUDIENCE = "https://buurtplatform.example"
THEIR_ISSUER = "https://issuer.sd-jwt-js.example"
THEIR_CLAIMS: dict[str, Any] = {
    "postcode": "1087AB",
    "postcode_area": "1087",
    "municipality": {"code": "GM0363", "name": "Amsterdam"},
    "residence_source": "letter",
}


def run_script(script: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    done = run_node(NODE_DIR, script, json.dumps(payload), timeout=60)
    try:
        report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError) as error:
        raise AssertionError(
            f"{script} printed no JSON (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        ) from error
    return done.returncode, report


class KluisCredential:
    """A postcode VC issued by Kluis, its holder key and what a verifier needs besides."""

    def __init__(self, session: Session, keyring: Keyring, account: str) -> None:
        now = utcnow()
        ctype = TYPES["postcode"]
        self.session, self.keyring = session, keyring
        self.row = record_issued(
            session,
            CONFIG,
            account_id=account,
            type_id=ctype.id,
            issued_at=now,
            expires_at=now + ctype.validity,
        )
        self.ref = StatusReference(CONFIG.status_uri(self.row.status_list_id), self.row.status_idx)
        self.holder_key = holder_key()
        self.credential = issue_vc(
            session,
            keyring,
            CONFIG,
            ctype,
            ctype.claims_from(INPUTS["postcode"], now.date()),
            holder_jwk=holder_jwk(self.holder_key),
            status=self.ref,
            now=now,
        )

    def present(self, *paths: tuple[Any, ...]) -> str:
        return HeldSdJwt.parse(self.credential).present(
            paths, holder_key=self.holder_key, nonce=NONCE, audience=AUDIENCE
        )

    def verifier_input(self, presentation: str, *required: str) -> dict[str, Any]:
        kid = str(HeldSdJwt.parse(self.credential).header["kid"])
        token = status_list_token(self.session, self.keyring, CONFIG, self.row.status_list_id)
        return {
            "presentation": presentation,
            "issuer_jwk": public_jwk(self.keyring.public_key(self.session, kid)),
            "nonce": NONCE,
            "audience": AUDIENCE,
            "required_claims": list(required),
            "status_lists": {self.ref.uri: token},
        }


@pytest.fixture
def kluis_credential(
    session: Session, keyring: Keyring, subject_keys: SubjectKeys
) -> KluisCredential:
    return KluisCredential(session, keyring, make_account(session, subject_keys))


def test_sd_jwt_js_verifies_a_kluis_presentation_with_key_binding_and_status(
    kluis_credential: KluisCredential,
) -> None:
    presentation = kluis_credential.present(("postcode_area",), ("municipality", "name"))

    code, report = run_script(
        "verify.mjs",
        kluis_credential.verifier_input(presentation, "postcode_area", "municipality.name"),
    )

    assert code == 0 and report["ok"], report
    disclosed = {k: v for k, v in report["claims"].items() if k not in REGISTERED}
    assert disclosed == {"postcode_area": "1087", "municipality": {"name": "Amsterdam"}}
    assert report["header"]["typ"] == "dc+sd-jwt"
    assert report["kb"]["payload"]["nonce"] == NONCE
    ours = verify_vc(
        presentation,
        kluis_credential.session,
        kluis_credential.keyring,
        NONCE,
        AUDIENCE,
        issuer=TEST_ISSUER,
    )
    assert ours.claims == disclosed


def test_sd_jwt_js_rejects_a_revoked_kluis_credential_through_the_status_list(
    kluis_credential: KluisCredential,
) -> None:
    presentation = kluis_credential.present(("postcode_area",))
    revoke_credential(kluis_credential.session, kluis_credential.row.id, "operator", "op:test")

    code, report = run_script("verify.mjs", kluis_credential.verifier_input(presentation))

    assert code == 1 and not report["ok"]
    assert "status" in report["error"].lower(), report


def test_sd_jwt_js_rejects_a_kluis_presentation_for_another_audience(
    kluis_credential: KluisCredential,
) -> None:
    presentation = kluis_credential.present(("postcode_area",))
    verifier_input = {**kluis_credential.verifier_input(presentation), "audience": "https://x.nl"}

    code, report = run_script("verify.mjs", verifier_input)

    assert code == 1 and "aud" in report["error"], report


def strict_policy(**overrides: Any) -> VerificationPolicy:
    options: dict[str, Any] = {
        "expected_typ": "dc+sd-jwt",
        "algorithms": frozenset({"ES256"}),
        "require_key_binding": True,
        "key_binding": KeyBindingExpectation(NONCE, AUDIENCE),
        "required_claims": ("iss", "vct", "iat", "exp", "cnf"),
        "expected_issuer": THEIR_ISSUER,
    }
    options.update(overrides)
    return VerificationPolicy(**options)


@pytest.fixture(scope="module")
def their_presentation() -> dict[str, Any]:
    code, report = run_script(
        "issue.mjs",
        {
            "iss": THEIR_ISSUER,
            "vct": f"{THEIR_ISSUER}/vct/postcode",
            "claims": THEIR_CLAIMS,
            "disclosable": sorted(THEIR_CLAIMS),
            "disclose": ["postcode_area", "municipality"],
            "nonce": NONCE,
            "audience": AUDIENCE,
        },
    )
    assert code == 0, report
    return report


def test_kluis_verifies_an_sd_jwt_js_presentation_with_a_strict_policy(
    their_presentation: dict[str, Any],
) -> None:
    issuer_jwk = their_presentation["issuer_jwk"]

    result = verify_sd_jwt(
        their_presentation["presentation"],
        key_resolver=lambda header, payload: issuer_jwk,
        policy=strict_policy(),
    )

    assert their_presentation["header"] == {"typ": "dc+sd-jwt", "alg": "ES256"}  # no kid
    assert {k: v for k, v in result.claims.items() if k not in REGISTERED} == {
        "postcode_area": "1087",
        "municipality": {"code": "GM0363", "name": "Amsterdam"},
    }
    assert set(result.disclosed_paths) == {("municipality",), ("postcode_area",)}
    assert result.key_binding is not None and result.key_binding["aud"] == AUDIENCE
    assert result.holder_jwk is not None and result.holder_jwk["crv"] == "P-256"


def test_kluis_holder_reads_every_claim_of_an_sd_jwt_js_credential(
    their_presentation: dict[str, Any],
) -> None:
    held = HeldSdJwt.parse(their_presentation["credential"])

    assert {k: v for k, v in held.claims.items() if k not in REGISTERED} == THEIR_CLAIMS
    assert set(held.paths) == {(name,) for name in THEIR_CLAIMS}


@pytest.mark.parametrize(
    "policy",
    [
        strict_policy(key_binding=KeyBindingExpectation("another-nonce", AUDIENCE)),
        strict_policy(key_binding=KeyBindingExpectation(NONCE, "https://x.nl")),
        strict_policy(expected_typ="vc+sd-jwt"),
        strict_policy(expected_issuer="https://elsewhere.example"),
    ],
    ids=["nonce", "audience", "typ", "issuer"],
)
def test_kluis_rejects_an_sd_jwt_js_presentation_for_another_request(
    their_presentation: dict[str, Any], policy: VerificationPolicy
) -> None:
    issuer_jwk = their_presentation["issuer_jwk"]
    with pytest.raises(SdJwtError):
        verify_sd_jwt(
            their_presentation["presentation"],
            key_resolver=lambda header, payload: issuer_jwk,
            policy=policy,
        )
