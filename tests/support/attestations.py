"""Helpers for attestation tests: a resident account, holder keys, ready-made claims."""

from __future__ import annotations

import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session

from attestations.sdjwt import public_jwk
from core.db import utcnow
from identity.accounts.models import Account
from keys import SubjectKeys

POSTCODE_INPUT: dict[str, Any] = {
    "postcode": "1087 ab",
    "municipality": {"code": "GM0363", "name": "Amsterdam"},
    "residence_source": "registry",
}
AGE_INPUT: dict[str, Any] = {"birth_date": "1990-05-17"}
REAL_PERSON_INPUT: dict[str, Any] = {"verification": "peer"}
INPUTS = {"postcode": POSTCODE_INPUT, "age": AGE_INPUT, "real_person": REAL_PERSON_INPUT}


def make_account(session: Session, subject_keys: SubjectKeys) -> str:
    """A bare active account with its data key (no e-mail, no password)."""
    account_id = uuid.uuid4().hex
    subject_keys.create(session, account_id)
    session.add(
        Account(
            id=account_id,
            handle=f"bewoner-{account_id[:12]}",
            email_verified=False,
            status="active",
            created_at=utcnow(),
        )
    )
    session.flush()
    return account_id


def holder_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def holder_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    return dict(public_jwk(key.public_key()))
