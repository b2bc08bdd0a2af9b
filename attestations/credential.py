"""OpenID4VCI 1.0 credential endpoint (§8) with `jwt` key proofs (Appendix F.1).

One credential per proof key, each with its own salts and status index (batch issuance,
§8.2). The access token and c_nonces are spent with conditional UPDATEs inside the request's
transaction: a refused request rolls back, so the wallet can retry with the same token.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.errors import (
    CredentialRequestDenied,
    InvalidCredentialRequest,
    InvalidNonce,
    InvalidProof,
    UnknownCredentialConfiguration,
    UnknownCredentialIdentifier,
)
from attestations.issuance import claims_field, consume_nonce
from attestations.models import CredentialOffer, VciAccessToken
from attestations.sdjwt import CheckedJwk, SdJwtError, checked_jwk
from attestations.sdjwt import jws as sd_jws
from attestations.sdjwt.jwk import public_key_from_jwk
from attestations.statuslist import StatusReference, record_issued
from attestations.types import TYPES
from attestations.vc import day_floor, issue_vc
from audit import record
from core import InsufficientScope, InvalidToken, rowcount, token_hash, utcnow
from identity import AccountStatus, get_account
from keys import DecryptionFailed, Keyring, SubjectKeyDestroyed, SubjectKeys

PROOF_TYP = "openid4vci-proof+jwt"
PROOF_ALGS = frozenset({"ES256"})
LEEWAY = dt.timedelta(seconds=60)


class _ProofMalformed(SdJwtError):
    code = "invalid_proof"


@dataclass(frozen=True)
class KeyProof:
    """A verified `jwt` key proof: the holder key to bind (checked here, so that the issuer
    does not check it a second time) and the c_nonce it carried."""

    jwk: CheckedJwk
    nonce: str


def spend_access_token(
    session: Session, authorization: str | None, now: dt.datetime
) -> VciAccessToken:
    """RFC 6750 §2.1 bearer token, spent at once with a conditional UPDATE (the request's
    transaction rolls the spending back if any later check fails). Unknown, expired, spent or
    revoked → invalid_token."""
    if not authorization or authorization[:7].lower() != "bearer ":
        raise InvalidToken("a bearer access token is required")
    digest = token_hash(authorization[7:].strip())
    spent = session.execute(
        update(VciAccessToken)
        .where(
            VciAccessToken.token_hash == digest,
            VciAccessToken.used_at.is_(None),
            VciAccessToken.revoked_at.is_(None),
            VciAccessToken.expires_at > now,
        )
        .values(used_at=now)
    )
    row = session.get(VciAccessToken, digest, populate_existing=True)
    if rowcount(spent) != 1 or row is None:
        raise InvalidToken("the access token is invalid, spent or expired")
    return row


def check_request(body: Any, offer: CredentialOffer) -> str:
    """§8.2: `credential_configuration_id` (no `credential_identifier`: none are issued)."""
    if not isinstance(body, Mapping):
        raise InvalidCredentialRequest("the request body must be a JSON object")
    if "credential_identifier" in body:
        raise UnknownCredentialIdentifier("credential identifiers are not used by this issuer")
    config_id = body.get("credential_configuration_id")
    if not isinstance(config_id, str):
        raise InvalidCredentialRequest("credential_configuration_id is required")
    if config_id not in TYPES:
        raise UnknownCredentialConfiguration(f"unknown configuration {config_id[:40]!r}")
    if config_id != offer.type:
        raise InsufficientScope("the access token does not cover this credential")
    if "credential_response_encryption" in body:
        raise InvalidCredentialRequest("encrypted responses are not supported")
    return config_id


def proof_jwts(body: Mapping[str, Any], config: AttestationConfig) -> list[str]:
    proofs = body.get("proofs")
    if proofs is None:
        raise InvalidProof("proofs is required")
    if not isinstance(proofs, Mapping) or len(proofs) != 1 or "jwt" not in proofs:
        raise InvalidProof("proofs must hold exactly one proof type: jwt")
    jwts = proofs["jwt"]
    if not isinstance(jwts, list) or not jwts or not all(isinstance(p, str) for p in jwts):
        raise InvalidProof("proofs.jwt must be a non-empty array of JWTs")
    if len(jwts) > config.batch_size:
        raise InvalidCredentialRequest(f"at most {config.batch_size} proofs per request")
    return jwts


def check_proof(token: str, config: AttestationConfig, now: dt.datetime) -> KeyProof:
    """Appendix F.1: typ, alg allow-list, `jwk` header (public, no kid/x5c), signature,
    `aud` = this issuer, fresh `iat`, a `nonce`. `iss` is ignored (anonymous wallets omit it)."""
    try:
        proof = sd_jws.parse_compact(token, _ProofMalformed)
        header, payload = proof.header, proof.payload
        alg, jwk = header.get("alg"), header.get("jwk")
        if header.get("typ") != PROOF_TYP:
            raise InvalidProof(f"proof typ must be {PROOF_TYP}")
        if not isinstance(alg, str) or alg not in PROOF_ALGS or "crit" in header:
            raise InvalidProof("proof algorithm must be ES256")
        if "kid" in header or "x5c" in header or not isinstance(jwk, dict):
            raise InvalidProof("the proof must carry the holder key as a jwk header only")
        key = public_key_from_jwk(jwk, _ProofMalformed)
        if not sd_jws.verify(alg, key, proof.signing_input, proof.signature):
            raise InvalidProof("proof signature does not verify")
        holder = checked_jwk(key, _ProofMalformed)
    except (SdJwtError, sd_jws.KeyMismatch) as exc:
        raise InvalidProof("the proof is not a valid ES256 JWT with a P-256 jwk") from exc
    if payload.get("aud") != config.issuer:
        raise InvalidProof("proof aud must be the credential issuer")
    iat = payload.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise InvalidProof("proof iat is required")
    age = now.timestamp() - float(iat)
    if not -LEEWAY.total_seconds() <= age <= (config.proof_max_age + LEEWAY).total_seconds():
        raise InvalidProof("proof iat is not fresh")
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise InvalidProof("proof nonce (a c_nonce) is required")
    return KeyProof(holder, nonce)


def check_proofs(jwts: list[str], config: AttestationConfig, now: dt.datetime) -> list[KeyProof]:
    proofs = [check_proof(token, config, now) for token in jwts]
    keys = {json.dumps(p.jwk, sort_keys=True) for p in proofs}
    if len(keys) != len(proofs):
        raise InvalidProof("each proof must be for a different key")
    return proofs


def spend_nonces(session: Session, proofs: list[KeyProof], now: dt.datetime) -> None:
    for nonce in sorted({p.nonce for p in proofs}):
        if not consume_nonce(session, nonce, now):
            raise InvalidNonce("the c_nonce is unknown, expired or already used")


def issue_credentials(
    session: Session,
    keyring: Keyring,
    subject_keys: SubjectKeys,
    config: AttestationConfig,
    *,
    authorization: str | None,
    body: Any,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The Credential Request (§8.2) → Credential Response (§8.3) body. Caller commits."""
    moment = now or utcnow()
    token = spend_access_token(session, authorization, moment)
    offer = session.scalars(
        select(CredentialOffer).where(CredentialOffer.id == token.offer_id)
    ).one()
    ctype = TYPES[check_request(body, offer)]
    proofs = check_proofs(proof_jwts(body, config), config, moment)
    try:
        claims = json.loads(
            subject_keys.decrypt(
                session, offer.account_id, claims_field(offer.id), offer.claims_enc
            )
        )
    except (SubjectKeyDestroyed, DecryptionFailed) as exc:
        raise CredentialRequestDenied("this credential can no longer be issued") from exc
    account = get_account(session, offer.account_id)
    if account is None or account.status == AccountStatus.DISABLED.value:
        raise CredentialRequestDenied("this credential can no longer be issued")
    spend_nonces(session, proofs, moment)
    subject_ref = subject_keys.reference(session, offer.account_id)
    expires_at = dt.datetime.fromtimestamp(day_floor(moment + ctype.validity), dt.UTC)
    credentials = []
    for proof in proofs:
        row = record_issued(
            session,
            config,
            account_id=offer.account_id,
            type_id=ctype.id,
            issued_at=moment,
            expires_at=expires_at,  # the credentials' own `exp`
            pseudonym_holder=offer.pseudonym_holder,
        )
        status = StatusReference(config.status_uri(row.status_list_id), row.status_idx)
        credential = issue_vc(
            session, keyring, config, ctype, claims, holder_jwk=proof.jwk, status=status, now=moment
        )
        record(
            session,
            "attestation.issued",
            "resident",
            subject_ref=subject_ref,
            details={"credential_id": row.id, "type": ctype.id, "offer_id": offer.id},
        )
        credentials.append({"credential": credential})
    # Kluis keeps no claim values once they are issued
    session.execute(
        update(CredentialOffer).where(CredentialOffer.id == offer.id).values(claims_enc=b"")
    )
    return {"credentials": credentials}
