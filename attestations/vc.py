"""SD-JWT VCs (draft-ietf-oauth-sd-jwt-vc) on top of the RFC 9901 library in `sdjwt`.

Issued credentials carry `iss`, `vct`, `iat`, `exp`, `cnf.jwk` and `status` in the clear (§3.2.2
forbids making them disclosable) and every type claim as a Disclosure. `iat` and `exp` are
rounded down to the UTC day: a batch of credentials issued together is then indistinguishable
by time from everything else issued that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.errors import (
    CredentialRejected,
    CredentialRevoked,
    MalformedCredential,
    NotAKluisCredential,
    StatusUnavailable,
)
from attestations.own_status import own_status
from attestations.sdjwt import (
    JsonObject,
    KeyBindingExpectation,
    SdJwtError,
    VerificationPolicy,
    VerifiedSdJwt,
    issue_sd_jwt,
    verify_sd_jwt,
)
from attestations.sdjwt.jwk import PublicKey
from attestations.statuslist import VALID, StatusReference
from attestations.types import TYPES, CredentialType
from core import utcnow
from keys import Keyring, UnknownKey

VC_TYP = "dc+sd-jwt"
ALG = "ES256"
DAY_SECONDS = 86_400
REGISTERED = ("iss", "vct", "iat", "exp", "nbf", "cnf", "status", "sub", "vct#integrity")
NEVER_DISCLOSED = ("iss", "vct", "exp", "nbf", "cnf", "status", "vct#integrity")
REQUIRED = ("iss", "vct", "iat", "exp", "cnf", "status")


def day_floor(moment: dt.datetime) -> int:
    seconds = int(moment.timestamp())
    return seconds - seconds % DAY_SECONDS


def issue_vc(
    session: Session,
    keyring: Keyring,
    config: AttestationConfig,
    ctype: CredentialType,
    claims: Mapping[str, Any],
    *,
    holder_jwk: Mapping[str, Any],
    status: StatusReference,
    now: dt.datetime,
) -> str:
    """Sign one SD-JWT VC of `ctype` bound to `holder_jwk`, with fresh salts."""
    kid, key = keyring.signing_key(session, ALG)
    clear: JsonObject = {
        "iss": config.issuer,
        "vct": config.vct(ctype.id),
        "exp": day_floor(now + ctype.validity),
        "status": {"status_list": {"idx": status.idx, "uri": status.uri}},
    }
    issued = issue_sd_jwt(
        {**clear, **claims},
        issuer_key=key,
        # a type's claims a source could not make certain are left out (an age attestation
        # from a birth year alone), and with them their paths
        disclosable=tuple(p for p in ctype.all_disclosable if p[0] in claims),
        alg=ALG,
        typ=VC_TYP,
        kid=kid,
        holder_key=holder_jwk,
        iat=day_floor(now),
    )
    return issued.serialize()


@dataclass(frozen=True)
class VerifiedVc:
    type_id: str
    claims: JsonObject  # the disclosed type claims only
    holder_jwk: JsonObject
    status: StatusReference | None  # None: the issuer gave it no status (other issuers)
    sd_jwt: VerifiedSdJwt


def _resolver(
    session: Session, keyring: Keyring, issuer: str
) -> Callable[[JsonObject, JsonObject], PublicKey | None]:
    def resolve(header: JsonObject, payload: JsonObject) -> PublicKey | None:
        kid = header.get("kid")
        if payload.get("iss") != issuer or not isinstance(kid, str):
            return None
        try:
            return keyring.public_key(session, kid)
        except UnknownKey:
            return None

    return resolve


def _check_structure(verified: VerifiedSdJwt, config: AttestationConfig) -> CredentialType:
    made_disclosable = {path[0] for path in verified.disclosed_paths} & set(NEVER_DISCLOSED)
    if made_disclosable:
        raise MalformedCredential("registered claims must not be selectively disclosable")
    vct = verified.claims.get("vct")
    type_id = vct.removeprefix(config.vct("")) if isinstance(vct, str) else ""
    ctype = TYPES.get(type_id)
    if ctype is None or vct != config.vct(type_id):
        raise NotAKluisCredential("vct is not a credential type of this issuer")
    if verified.holder_jwk is None:
        raise MalformedCredential("cnf.jwk is required")
    return ctype


def own_credential_status(session: Session, config: AttestationConfig, ref: StatusReference) -> int:
    """The status of a credential Kluis issued, read from its own list in the database (the
    list the status endpoint would serve). A URI outside Kluis's lists, an unknown list or an
    index outside it: `StatusUnavailable`."""
    prefix = config.status_uri("")
    list_id = ref.uri[len(prefix) :]
    if not ref.uri.startswith(prefix) or "/" in list_id:
        raise StatusUnavailable("status list of another issuer")
    return own_status(session, list_id, ref.idx)


def require_valid(status: int) -> None:
    """Only VALID is accepted: INVALID, SUSPENDED and application-specific values refuse."""
    if status != VALID:
        raise CredentialRevoked("the credential has been revoked")


def verify_vc(
    presentation: str,
    session: Session,
    keyring: Keyring,
    nonce: str,
    audience: str,
    now: dt.datetime | None = None,
    *,
    issuer: str,
) -> VerifiedVc:
    """Verify an SD-JWT VC presentation of a credential this Kluis issued: RFC 9901 §7.1 and
    §7.3 with key binding to `nonce` and `audience`, typ `dc+sd-jwt`, Kluis's own key by
    `kid`, the required claims, then its status, read from Kluis's own list. Raises
    `CredentialRejected` (database faults propagate)."""
    moment = now or utcnow()
    config = AttestationConfig(issuer)
    policy = VerificationPolicy(
        expected_typ=VC_TYP,
        algorithms=frozenset({ALG}),
        key_binding=KeyBindingExpectation(nonce, audience),
        required_claims=REQUIRED,
        expected_issuer=config.issuer,
    )
    try:
        verified = verify_sd_jwt(
            presentation,
            key_resolver=_resolver(session, keyring, config.issuer),
            policy=policy,
            now=moment.timestamp(),
        )
    except SdJwtError as exc:
        raise CredentialRejected(str(exc), code=exc.code) from exc
    ctype = _check_structure(verified, config)
    ref = StatusReference.from_claims(verified.claims)
    require_valid(own_credential_status(session, config, ref))
    assert verified.holder_jwk is not None
    disclosed = {k: v for k, v in verified.claims.items() if k not in REGISTERED}
    return VerifiedVc(ctype.id, disclosed, verified.holder_jwk, ref, verified)
