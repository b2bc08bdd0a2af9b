from __future__ import annotations

import datetime as dt

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session

from core.db import utcnow
from keys import Keyring, NoActiveKey


def test_signing_key_is_the_active_key_and_verifies_with_its_published_half(
    keyring: Keyring, session: Session
) -> None:
    kid, private = keyring.signing_key(session, "ES256")

    assert kid == keyring.active_key(session, "ES256")
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    token = jwt.encode({"x": 1}, private, algorithm="ES256", headers={"kid": kid})
    public = keyring.public_key(session, kid)
    assert jwt.decode(token, public, algorithms=["ES256"]) == {"x": 1}


def test_signing_key_skips_a_published_key_that_is_not_yet_active(
    keyring: Keyring, session: Session
) -> None:
    before, _ = keyring.signing_key(session, "ES256")
    keyring.create_key(session, "ES256", activates_at=utcnow() + dt.timedelta(hours=1))

    assert keyring.signing_key(session, "ES256")[0] == before


def test_signing_key_refuses_an_algorithm_without_keys(keyring: Keyring, session: Session) -> None:
    with pytest.raises(NoActiveKey):
        keyring.signing_key(session, "PS256")
