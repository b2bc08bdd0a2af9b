"""Vouching tests' helpers: collecting a credential offer without HTTP, and a confirmation
made the way a voucher's phone makes it (open a request, preview it, confirm).

`collect` writes what a wallet's collection writes, through the very domain functions the
endpoints call (`attestations.routes`: the offer document's `offer_document`, the token
endpoint's `exchange_pre_authorized_code`, the nonce endpoint's `new_nonce`, the credential
endpoint's `issue_credentials`), with the key proof any wallet makes: the offer is used, the
access token and the nonce are spent, one `issued_credentials` row gets its status index,
the `attestation.issued` audit entry names the offer and the credential (what
`vouching.lapses.issued_from` reads), and the offer's claims are dropped. Only the
HTTP is left out.
"""

from __future__ import annotations

import datetime as dt

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations import vouching
from attestations.config import PRE_AUTH_GRANT
from attestations.credential import PROOF_TYP, issue_credentials
from attestations.issuance import (
    CreatedOffer,
    exchange_pre_authorized_code,
    new_nonce,
    offer_document,
)
from attestations.models import CredentialOffer, IssuedCredential
from attestations.sdjwt import public_jwk
from service.runtime import Runtime


def collect(session: Session, runtime: Runtime, offer: CreatedOffer, now: dt.datetime) -> str:
    """Collect the offer at `now` with one fresh holder key, as a wallet would; returns the
    id of the issued credential. The caller commits."""
    config = runtime.attestations
    row = session.get(CredentialOffer, offer.offer_id)
    assert row is not None, "the offer is gone"
    ref = offer.credential_offer_uri.rsplit("/", 1)[1]
    document = offer_document(session, runtime.subject_keys, config, ref, now)
    code = document["grants"][PRE_AUTH_GRANT]["pre-authorized_code"]
    form = {"pre-authorized_code": code, "tx_code": offer.tx_code}
    token = exchange_pre_authorized_code(session, config, form, now)["access_token"]
    nonce = new_nonce(session, config, now)
    key = ec.generate_private_key(ec.SECP256R1())
    proof = jwt.encode(
        {"aud": config.issuer, "iat": int(now.timestamp()), "nonce": nonce},
        key,
        algorithm="ES256",
        headers={"typ": PROOF_TYP, "jwk": dict(public_jwk(key.public_key()))},
    )
    before = set(_issued_to(session, row.account_id))
    issue_credentials(
        session,
        runtime.keyring,
        runtime.subject_keys,
        config,
        authorization=f"Bearer {token}",
        body={"credential_configuration_id": row.type, "proofs": {"jwt": [proof]}},
        now=now,
    )
    [issued] = set(_issued_to(session, row.account_id)) - before
    return issued


def _issued_to(session: Session, account_id: str) -> list[str]:
    return list(
        session.scalars(
            select(IssuedCredential.id).where(IssuedCredential.account_id == account_id)
        )
    )


def confirm(
    session: Session,
    runtime: Runtime,
    voucher: str,
    vouchee: str,
    now: dt.datetime,
    *,
    preview: bool = True,
) -> str:
    """`voucher` scans `vouchee`'s QR code (and, with `preview`, sees the request first, with
    the same check code and the same refusal as the confirmation then gives) and confirms at
    `now`: the confirmation's id, or `vouching.ConfirmationRefused` (its audit entry
    committed, as a route would). Commits."""
    keys, config = runtime.subject_keys, runtime.vouching
    opened = vouching.open_request(session, keys, config, vouchee_id=vouchee, now=now)
    seen = None
    if preview:
        seen = vouching.preview(
            session, keys, config, voucher_id=voucher, token=opened.token, now=now
        )
        assert (seen.request_id, seen.check_code) == (opened.id, opened.check_code)
    try:
        confirmation = vouching.confirm(
            session, keys, config, voucher_id=voucher, request_id=opened.id, now=now
        )
    except vouching.ConfirmationRefused as refused:
        assert seen is None or seen.refusal == refused.reason, "preview and confirmation differ"
        session.commit()
        raise
    assert seen is None or seen.refusal is None, "the preview refused what was confirmed"
    session.commit()
    return confirmation
