"""The built-in wallet's store: credentials Kluis holds for a resident who has no wallet app.

Credentials come in only through the OpenID4VCI domain functions a wallet app uses (the
pre-authorized code exchange with the transaction code, a c_nonce, a `jwt` key proof, the
credential endpoint's issuance), with a holder key generated here and bound into the
credential (`cnf.jwk`). The SD-JWT and the private key are kept encrypted under the resident's
data key, so erasure shreds them. Only metadata (type, dates) is ever listed or logged.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.credential import PROOF_TYP, issue_credentials
from attestations.issuance import code_field, create_offer, exchange_pre_authorized_code, new_nonce
from attestations.models import CredentialOffer, IssuedCredential
from attestations.sdjwt import HeldSdJwt, public_jwk
from attestations.statuslist import StatusReference
from attestations.wallet.models import WalletCredential
from audit import record
from core import InvalidGrant, NotFound, utcnow
from keys import DecryptionFailed, Keyring, SubjectKeyDestroyed, SubjectKeys

# one credential per offer: the built-in wallet never shows a credential to anyone but Kluis's
# own verifier, so a batch of unlinkable copies would buy nothing
BUILT_IN_BATCH = 1


def sd_jwt_field(wallet_id: str) -> str:
    return f"wallet_credential:{wallet_id}:sd_jwt"


def key_field(wallet_id: str) -> str:
    return f"wallet_credential:{wallet_id}:holder_key"


@dataclass(frozen=True)
class HeldSummary:
    """What the resident's page shows of a held credential: never a claim value."""

    id: str
    type: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    state: str  # valid | revoked | expired


@dataclass(frozen=True)
class HeldCredential:
    """A usable credential with its secrets, decrypted for one presentation or claim lookup."""

    id: str
    type: str
    sd_jwt: str
    holder_key: ec.EllipticCurvePrivateKey

    @property
    def claims(self) -> dict[str, Any]:
        return dict(HeldSdJwt.parse(self.sd_jwt).claims)

    def present(self, paths: list[tuple[str | int | None, ...]], nonce: str, audience: str) -> str:
        """RFC 9901 §7.2: only the Disclosures of `paths`, with a KB-JWT from the held key."""
        return HeldSdJwt.parse(self.sd_jwt).present(
            paths, holder_key=self.holder_key, nonce=nonce, audience=audience
        )


def _issued_row(
    session: Session, config: AttestationConfig, ref: StatusReference
) -> IssuedCredential:
    """The issued_credentials row of a Kluis credential, found through its status list entry."""
    prefix = config.status_uri("")
    list_id = ref.uri[len(prefix) :] if ref.uri.startswith(prefix) else ""
    row = session.scalar(
        select(IssuedCredential).where(
            IssuedCredential.status_list_id == list_id, IssuedCredential.status_idx == ref.idx
        )
    )
    if row is None:
        raise NotFound("The credential was not issued by this Kluis.")
    return row


def store_credential(
    session: Session,
    subject_keys: SubjectKeys,
    config: AttestationConfig,
    *,
    account_id: str,
    sd_jwt: str,
    holder_key: ec.EllipticCurvePrivateKey,
    now: dt.datetime,
) -> WalletCredential:
    held = HeldSdJwt.parse(sd_jwt)
    issued = _issued_row(session, config, StatusReference.from_claims(held.claims))
    wallet_id = secrets.token_hex(16)
    pem = holder_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    row = WalletCredential(
        id=wallet_id,
        account_id=account_id,
        issued_credential_id=issued.id,
        type=issued.type,
        sd_jwt_enc=subject_keys.encrypt(session, account_id, sd_jwt_field(wallet_id), sd_jwt),
        holder_key_enc=subject_keys.encrypt(session, account_id, key_field(wallet_id), pem),
        issued_at=issued.issued_at,
        expires_at=issued.expires_at,
        stored_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _proof(key: ec.EllipticCurvePrivateKey, issuer: str, nonce: str, now: dt.datetime) -> str:
    """OpenID4VCI Appendix F.1 key proof, as any wallet makes it."""
    headers = {"typ": PROOF_TYP, "jwk": dict(public_jwk(key.public_key()))}
    payload = {"aud": issuer, "iat": int(now.timestamp()), "nonce": nonce}
    return jwt.encode(payload, key, algorithm="ES256", headers=headers)


def keep_offer(
    session: Session,
    keyring: Keyring,
    subject_keys: SubjectKeys,
    config: AttestationConfig,
    *,
    account_id: str,
    offer_id: str,
    tx_code: str,
    now: dt.datetime | None = None,
) -> list[WalletCredential]:
    """Redeem the resident's own pending offer into the built-in wallet: OpenID4VCI §6 token
    request with the transaction code the resident typed (a wrong one counts, as for any
    wallet), §7 nonce, §8 credential request with a key proof. The caller commits."""
    moment = now or utcnow()
    offer = session.get(CredentialOffer, offer_id)
    if offer is None or offer.account_id != account_id or not offer.code_enc:
        raise NotFound("This credential offer does not exist or is no longer valid.")
    try:
        code = subject_keys.decrypt(session, account_id, code_field(offer.id), offer.code_enc)
    except (SubjectKeyDestroyed, DecryptionFailed) as exc:
        raise NotFound("This credential offer does not exist or is no longer valid.") from exc
    form = {"pre-authorized_code": code, "tx_code": tx_code.strip()}
    token = exchange_pre_authorized_code(session, config, form, moment)
    nonce = new_nonce(session, config, moment)
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(BUILT_IN_BATCH)]
    response = issue_credentials(
        session,
        keyring,
        subject_keys,
        config,
        authorization=f"Bearer {token['access_token']}",
        body={
            "credential_configuration_id": offer.type,
            "proofs": {"jwt": [_proof(k, config.issuer, nonce, moment) for k in keys]},
        },
        now=moment,
    )
    stored = []
    for item, key in zip(response["credentials"], keys, strict=True):
        row = store_credential(
            session,
            subject_keys,
            config,
            account_id=account_id,
            sd_jwt=item["credential"],
            holder_key=key,
            now=moment,
        )
        record(
            session,
            "wallet.credential_stored",
            "resident",
            subject_ref=subject_keys.reference(session, account_id),
            details={"wallet_credential": row.id, "credential_id": row.issued_credential_id},
        )
        stored.append(row)
    return stored


def issue_to_wallet(
    session: Session,
    keyring: Keyring,
    subject_keys: SubjectKeys,
    config: AttestationConfig,
    *,
    account_id: str,
    type_id: str,
    claims: object,
    actor: str,
    now: dt.datetime | None = None,
) -> list[WalletCredential]:
    """An operator issues straight into the resident's built-in wallet: an offer, redeemed at
    once with its own transaction code (the same path as `keep_offer`)."""
    created = create_offer(
        session,
        subject_keys,
        config,
        account_id=account_id,
        type_id=type_id,
        claims=claims,
        actor=actor,
        now=now,
    )
    try:
        return keep_offer(
            session,
            keyring,
            subject_keys,
            config,
            account_id=account_id,
            offer_id=created.offer_id,
            tx_code=created.tx_code,
            now=now,
        )
    except InvalidGrant as exc:  # cannot happen: the code is the offer's own
        raise RuntimeError("issuing into the built-in wallet failed") from exc


def _state(row: WalletCredential, revoked_at: dt.datetime | None, now: dt.datetime) -> str:
    if revoked_at is not None:
        return "revoked"
    if row.expires_at <= now:
        return "expired"
    return "valid"


def held_credentials(
    session: Session, account_id: str, now: dt.datetime | None = None
) -> list[HeldSummary]:
    """The resident's built-in wallet, newest first (metadata only)."""
    moment = now or utcnow()
    rows = session.execute(
        select(WalletCredential, IssuedCredential.revoked_at)
        .join(IssuedCredential, IssuedCredential.id == WalletCredential.issued_credential_id)
        .where(WalletCredential.account_id == account_id)
        .order_by(WalletCredential.stored_at.desc(), WalletCredential.id)
    )
    return [
        HeldSummary(row.id, row.type, row.issued_at, row.expires_at, _state(row, revoked, moment))
        for row, revoked in rows
    ]


def usable_credentials(
    session: Session,
    subject_keys: SubjectKeys,
    account_id: str,
    now: dt.datetime | None = None,
    type_id: str | None = None,
) -> list[HeldCredential]:
    """Decrypted credentials that are neither revoked (their status list entry, whose bit is
    derived from `issued_credentials.revoked_at`) nor expired; newest first."""
    moment = now or utcnow()
    query = (
        select(WalletCredential)
        .join(IssuedCredential, IssuedCredential.id == WalletCredential.issued_credential_id)
        .where(
            WalletCredential.account_id == account_id,
            IssuedCredential.revoked_at.is_(None),
            IssuedCredential.expires_at > moment,
        )
        .order_by(WalletCredential.stored_at.desc(), WalletCredential.id)
    )
    if type_id is not None:
        query = query.where(WalletCredential.type == type_id)
    held = []
    for row in session.scalars(query):
        try:
            sd_jwt = subject_keys.decrypt(session, account_id, sd_jwt_field(row.id), row.sd_jwt_enc)
            pem = subject_keys.decrypt(session, account_id, key_field(row.id), row.holder_key_enc)
        except (SubjectKeyDestroyed, DecryptionFailed):
            continue
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        held.append(HeldCredential(row.id, row.type, sd_jwt, key))
    return held


def discard_held(session: Session, account_id: str, type_id: str) -> int:
    """Delete the built-in wallet's copies of the resident's credentials of one type, with
    their encrypted SD-JWT and holder key (erasure of one field, GDPR Art. 17: the data key
    stays, so the rows themselves must go). Returns how many. The caller commits."""
    ids = list(
        session.scalars(
            select(WalletCredential.id).where(
                WalletCredential.account_id == account_id, WalletCredential.type == type_id
            )
        )
    )
    if ids:
        session.execute(
            delete(WalletCredential)
            .where(WalletCredential.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    return len(ids)
