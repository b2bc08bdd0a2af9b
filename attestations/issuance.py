"""OpenID4VCI 1.0 pre-authorized code flow: offers (§4.1), the token exchange (§6) and
nonces (§7). The credential endpoint itself is in `attestations.credential`.

An offer is made by an operator (or a service such as letter codes) for one resident. The
wallet fetches it by reference, exchanges the pre-authorized code plus the 6-digit transaction
code (sent through another channel) for a short-lived access token, and then asks for the
credential. Every one-time value is consumed with one conditional UPDATE, so it is single-use
even under concurrent requests.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from attestations.config import PRE_AUTH_GRANT, AttestationConfig
from attestations.errors import AccountNotEligible
from attestations.models import CredentialOffer, VciAccessToken, VciNonce
from attestations.types import credential_type, issuance_date
from audit import record
from core import InvalidGrant, InvalidRequest, NotFound, new_token, rowcount, token_hash, utcnow
from identity import AccountStatus, get_account
from keys import DecryptionFailed, SubjectKeyDestroyed, SubjectKeys

OFFER_SCHEME = "openid-credential-offer://"
# dead offers (and their access tokens) are kept this long for diagnosis, then deleted
PURGE_AFTER = dt.timedelta(days=1)
TX_CODE_DESCRIPTION = (
    "Voer de 6 cijfers in die u van de balie of per brief kreeg / "
    "Enter the 6 digits you received at the desk or by letter"
)


def claims_field(offer_id: str) -> str:
    return f"credential_offer:{offer_id}:claims"


def code_field(offer_id: str) -> str:
    return f"credential_offer:{offer_id}:code"


@dataclass(frozen=True)
class CreatedOffer:
    offer_id: str
    credential_offer_uri: str
    offer_uri: str  # what the QR code holds
    tx_code: str  # to give to the resident through another channel, never stored
    expires_at: dt.datetime

    def as_dict(self) -> dict[str, str]:
        return {
            "credential_offer_uri": self.credential_offer_uri,
            "offer_uri": self.offer_uri,
            "tx_code": self.tx_code,
            "expires_at": self.expires_at.isoformat(),
        }


def _tx_code_hash(code: str, tx_code: str) -> str:
    # keyed by the pre-authorized code, which the database holds only encrypted
    return token_hash(f"{code}\x00{tx_code}")


def create_offer(
    session: Session,
    subject_keys: SubjectKeys,
    config: AttestationConfig,
    *,
    account_id: str,
    type_id: str,
    claims: Any,
    actor: str,
    now: dt.datetime | None = None,
    pseudonym_holder: str | None = None,
) -> CreatedOffer:
    """Validate `claims` for the type and store an offer for the resident. Source data such
    as a birth date is turned into claims here and not kept. `pseudonym_holder` is what the
    issued credentials vote as in polls when it is not the account (a letter)."""
    moment = now or utcnow()
    ctype = credential_type(type_id)
    account = get_account(session, account_id)
    if account is None:
        raise NotFound("No such account.")
    if account.status == AccountStatus.DISABLED.value:
        raise AccountNotEligible("The account is disabled.")
    derived = ctype.claims_from(claims, issuance_date(moment))
    purge_expired(session, moment)
    offer_id = uuid.uuid4().hex
    ref, code = new_token(), new_token()
    tx_code = f"{secrets.randbelow(10**config.tx_code_length):0{config.tx_code_length}d}"
    subject_keys.create(session, account_id)
    offer = CredentialOffer(
        id=offer_id,
        ref_hash=token_hash(ref),
        account_id=account_id,
        type=ctype.id,
        claims_enc=subject_keys.encrypt(
            session, account_id, claims_field(offer_id), json.dumps(derived)
        ),
        code_enc=subject_keys.encrypt(session, account_id, code_field(offer_id), code),
        code_hash=token_hash(code),
        tx_code_hash=_tx_code_hash(code, tx_code),
        failed_tx_attempts=0,
        created_at=moment,
        expires_at=moment + config.offer_ttl,
        pseudonym_holder=pseudonym_holder,
    )
    session.add(offer)
    session.flush()
    record(
        session,
        "attestation.offered",
        actor,
        subject_ref=subject_keys.reference(session, account_id),
        details={"offer_id": offer_id, "type": ctype.id},
    )
    uri = config.offer_uri(ref)
    return CreatedOffer(
        offer_id=offer_id,
        credential_offer_uri=uri,
        offer_uri=f"{OFFER_SCHEME}?credential_offer_uri={quote(uri, safe='')}",
        tx_code=tx_code,
        expires_at=offer.expires_at,
    )


def _live(offer: CredentialOffer, config: AttestationConfig, now: dt.datetime) -> bool:
    return (
        offer.used_at is None
        and offer.expires_at > now
        and offer.failed_tx_attempts < config.max_tx_attempts
    )


def live_offer_by_ref(
    session: Session, config: AttestationConfig, ref: str, now: dt.datetime | None = None
) -> CredentialOffer:
    """The offer a credential_offer_uri names, while it can still be used; else NotFound
    (the same answer whether it never existed, expired or was used)."""
    offer = session.scalar(
        select(CredentialOffer).where(CredentialOffer.ref_hash == token_hash(ref))
    )
    if offer is None or not _live(offer, config, now or utcnow()):
        raise NotFound("This credential offer does not exist or is no longer valid.")
    return offer


def offer_document(
    session: Session,
    subject_keys: SubjectKeys,
    config: AttestationConfig,
    ref: str,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The Credential Offer object (§4.1.1) served at the credential_offer_uri."""
    offer = live_offer_by_ref(session, config, ref, now)
    try:
        code = subject_keys.decrypt(session, offer.account_id, code_field(offer.id), offer.code_enc)
    except (SubjectKeyDestroyed, DecryptionFailed) as exc:  # the resident was erased
        raise NotFound("This credential offer does not exist or is no longer valid.") from exc
    return {
        "credential_issuer": config.issuer,
        "credential_configuration_ids": [offer.type],
        "grants": {
            PRE_AUTH_GRANT: {
                "pre-authorized_code": code,
                "tx_code": {
                    "input_mode": "numeric",
                    "length": config.tx_code_length,
                    "description": TX_CODE_DESCRIPTION,
                },
            }
        },
    }


# --- token endpoint (§6) ---------------------------------------------------------------------


def _param(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"{name} must be a non-empty string")
    return value


def _revoke_tokens_of(session: Session, offer_id: str, now: dt.datetime) -> None:
    """A replayed pre-authorized code revokes what it granted (RFC 9700 §4.5.3.1 spirit)."""
    session.execute(
        update(VciAccessToken)
        .where(VciAccessToken.offer_id == offer_id, VciAccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _refuse(
    session: Session, config: AttestationConfig, offer: CredentialOffer, now: dt.datetime
) -> NoReturn:
    """Why the attempt could not even be counted; a replay revokes what the code granted,
    and that is committed."""
    if offer.used_at is not None:
        _revoke_tokens_of(session, offer.id, now)
        session.commit()
        raise InvalidGrant("the pre-authorized code has already been used")
    raise InvalidGrant("the pre-authorized code is invalid or has expired")


def exchange_pre_authorized_code(
    session: Session,
    config: AttestationConfig,
    form: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Token Request with `grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code`
    (OpenID4VCI §6.1, §6.3); returns the Token Response body. Anonymous access: no client
    authentication is needed. The caller commits on success.

    A wrong transaction code is counted and COMMITTED before `invalid_grant` is raised, so the
    attempt limit holds whatever the caller does with the error.
    """
    moment = now or utcnow()
    code = _param(form, "pre-authorized_code")
    if code is None:
        raise InvalidRequest("pre-authorized_code is required")
    tx_code = _param(form, "tx_code")
    offer = session.scalar(
        select(CredentialOffer)
        .where(CredentialOffer.code_hash == token_hash(code))
        .execution_options(populate_existing=True)
    )
    if offer is None:
        raise InvalidGrant("the pre-authorized code is invalid or has expired")
    if tx_code is None:
        raise InvalidRequest("tx_code is required for this offer")
    # Count the attempt before the code is compared, in one conditional UPDATE: it locks the
    # offer row, so concurrent attempts queue and each sees the count of those before it. At
    # most `max_tx_attempts` comparisons ever happen; a right code gives its count back.
    reserved = session.execute(
        update(CredentialOffer)
        .where(
            CredentialOffer.id == offer.id,
            CredentialOffer.used_at.is_(None),
            CredentialOffer.expires_at > moment,
            CredentialOffer.failed_tx_attempts < config.max_tx_attempts,
        )
        .values(failed_tx_attempts=CredentialOffer.failed_tx_attempts + 1)
    )
    if rowcount(reserved) != 1:
        session.refresh(offer)
        _refuse(session, config, offer, moment)
    consumed = session.execute(
        update(CredentialOffer)
        .where(
            CredentialOffer.id == offer.id,
            CredentialOffer.tx_code_hash == _tx_code_hash(code, tx_code),
            CredentialOffer.used_at.is_(None),
        )
        .values(used_at=moment, failed_tx_attempts=CredentialOffer.failed_tx_attempts - 1)
    )
    if rowcount(consumed) != 1:
        session.commit()  # the counted attempt holds whatever the caller does with the error
        raise InvalidGrant("the transaction code is wrong")
    # the offer document is gone now; its copy of the code need not be kept
    session.execute(
        update(CredentialOffer).where(CredentialOffer.id == offer.id).values(code_enc=b"")
    )
    access_token = new_token()
    session.add(
        VciAccessToken(
            token_hash=token_hash(access_token),
            offer_id=offer.id,
            created_at=moment,
            expires_at=moment + config.access_token_ttl,
        )
    )
    session.flush()
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": int(config.access_token_ttl.total_seconds()),
    }


# --- nonce endpoint (§7) ---------------------------------------------------------------------


def new_nonce(session: Session, config: AttestationConfig, now: dt.datetime | None = None) -> str:
    moment = now or utcnow()
    session.execute(delete(VciNonce).where(VciNonce.expires_at < moment))
    nonce = new_token()
    session.add(
        VciNonce(
            nonce_hash=token_hash(nonce), created_at=moment, expires_at=moment + config.nonce_ttl
        )
    )
    session.flush()
    return nonce


def consume_nonce(session: Session, nonce: str, now: dt.datetime | None = None) -> bool:
    """Spend a c_nonce; False if unknown, expired or already spent."""
    moment = now or utcnow()
    result = session.execute(
        update(VciNonce)
        .where(
            VciNonce.nonce_hash == token_hash(nonce),
            VciNonce.used_at.is_(None),
            VciNonce.expires_at > moment,
        )
        .values(used_at=moment)
    )
    return rowcount(result) == 1


def purge_expired(session: Session, now: dt.datetime | None = None) -> int:
    """Delete offers dead for longer than PURGE_AFTER (their access tokens go with them) and
    expired nonces. Returns the number of offers deleted."""
    moment = now or utcnow()
    session.execute(delete(VciNonce).where(VciNonce.expires_at < moment))
    result = session.execute(
        delete(CredentialOffer).where(CredentialOffer.expires_at < moment - PURGE_AFTER)
    )
    return rowcount(result)
