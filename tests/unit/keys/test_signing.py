from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import Database, make_engine
from keys import DecryptionFailed, Keyring, KeyState, NoActiveKey, UnknownKey, active_kid_column
from keys.models import SigningKey
from keys.signing import derive_states

PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
HOUR = dt.timedelta(hours=1)


def _private_der(keyring: Keyring, session: Session, kid: str) -> bytes:
    key = keyring._private_key(session, kid)
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_private_keys_are_not_stored_in_plaintext_in_the_database_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scan.sqlite3'}"
    from service import migrate

    migrate.upgrade(url)
    keyring = Keyring(b"x" * 48, retention=HOUR)
    database = Database(make_engine(url))
    with database.transaction() as session:
        kids = keyring.ensure_keys(session)
    with database.transaction() as session:
        secrets_to_find = []
        for kid in kids:
            der = _private_der(keyring, session, kid)
            key = keyring._private_key(session, kid)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            numbers = key.private_numbers()
            d_bytes = (
                numbers.private_value.to_bytes(48, "big").lstrip(b"\0")
                if hasattr(numbers, "private_value")
                else numbers.d.to_bytes(384, "big").lstrip(b"\0")
            )  # type: ignore[union-attr]
            secrets_to_find += [der, pem, d_bytes[:24], base64.urlsafe_b64encode(d_bytes)[:24]]
    database.dispose()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("scan.sqlite3*"))
    assert len(kids) == 2 and stored
    for needle in secrets_to_find:
        assert needle not in stored


def test_stored_private_key_is_ciphertext_bound_to_its_kid(
    session: Session, keyring: Keyring
) -> None:
    row = keyring.create_key(session, "ES256")
    assert row.private_key_enc is not None
    assert _private_der(keyring, session, row.kid) not in row.private_key_enc
    other = keyring.create_key(session, "ES256")
    # Swapping ciphertexts between rows must not decrypt (kid is associated data).
    row.private_key_enc, other.private_key_enc = other.private_key_enc, row.private_key_enc
    fresh = Keyring(b"test-only-key-encryption-material-0123456789abcdef", retention=HOUR)
    with pytest.raises(DecryptionFailed):
        fresh._private_key(session, row.kid)


def test_wrong_secret_cannot_decrypt_private_keys(session: Session, keyring: Keyring) -> None:
    row = keyring.create_key(session, "ES256")
    intruder = Keyring(b"some-other-secret-of-sufficient-length-000000", retention=HOUR)
    with pytest.raises(DecryptionFailed):
        intruder._private_key(session, row.kid)


def test_jwks_publishes_only_public_members(session: Session, keyring: Keyring) -> None:
    jwks = keyring.jwks(session)
    algs = {k["alg"] for k in jwks["keys"]}
    assert {"RS256", "ES256"} <= algs
    for key in jwks["keys"]:
        assert not PRIVATE_JWK_MEMBERS & set(key), key
        assert key["use"] == "sig" and key["kid"]
        assert "key_ops" not in key  # RFC 7517 §4.3: not together with use


def test_jwks_drops_key_ops_that_older_keys_were_stored_with(
    session: Session, keyring: Keyring
) -> None:
    row = session.scalars(select(SigningKey)).first()
    assert row is not None
    row.public_jwk = {**row.public_jwk, "key_ops": ["verify"]}
    session.flush()
    published = next(k for k in keyring.jwks(session)["keys"] if k["kid"] == row.kid)
    assert "key_ops" not in published and published["use"] == "sig"


def test_rotation_publishes_before_use_and_keeps_old_tokens_verifiable(
    session: Session, keyring: Keyring
) -> None:
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False):
        old_kid = keyring.active_key(session, "RS256")
        old_token = keyring.sign_jwt(session, {"sub": "a"}, "RS256")
        new = keyring.rotate(session, "RS256", publish_delay=HOUR)
        # Published: in the JWKS at once, but not yet used for signing.
        assert new.kid in {k["kid"] for k in keyring.jwks(session)["keys"]}
        assert jwt.get_unverified_header(keyring.sign_jwt(session, {}, "RS256"))["kid"] == old_kid
        states = {s.kid: s.state for s in keyring.statuses(session, "RS256")}
        assert states[new.kid] is KeyState.PUBLISHED and states[old_kid] is KeyState.ACTIVE

    with time_machine.travel(start + HOUR + dt.timedelta(seconds=1), tick=False):
        new_token = keyring.sign_jwt(session, {"sub": "b"}, "RS256")
        assert jwt.get_unverified_header(new_token)["kid"] == new.kid
        states = {s.kid: s.state for s in keyring.statuses(session, "RS256")}
        assert states[old_kid] is KeyState.RETIRED and states[new.kid] is KeyState.ACTIVE
        # Both tokens verify against the published JWKS.
        jwks = jwt.PyJWKSet.from_dict(keyring.jwks(session))
        for token in (old_token, new_token):
            kid = jwt.get_unverified_header(token)["kid"]
            key = next(k for k in jwks.keys if k.key_id == kid)
            assert jwt.decode(token, key.key, algorithms=["RS256"])["sub"] in {"a", "b"}

    after_retention = start + HOUR + keyring.retention + dt.timedelta(seconds=2)
    with time_machine.travel(after_retention, tick=False):
        assert old_kid not in {k["kid"] for k in keyring.jwks(session)["keys"]}
        with pytest.raises(UnknownKey):
            keyring.public_key(session, old_kid)
        assert old_kid in keyring.prune(session)
        assert session.get(SigningKey, old_kid).private_key_enc is None  # type: ignore[union-attr]


def test_states_are_derived_from_timestamps_in_order() -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def key(kid: str, activates: dt.datetime) -> SigningKey:
        return SigningKey(
            kid=kid,
            alg="ES256",
            public_jwk={},
            private_key_enc=b"x",
            created_at=activates - HOUR,
            activates_at=activates,
        )

    keys = [key("a", t0), key("b", t0 + 2 * HOUR), key("c", t0 + 4 * HOUR)]
    at = lambda when: {s.kid: s.state.value for s in derive_states(keys, when, HOUR)}  # noqa: E731
    assert at(t0) == {"a": "active", "b": "published", "c": "published"}
    assert at(t0 + 2 * HOUR) == {"a": "retired", "b": "active", "c": "published"}
    assert at(t0 + 3 * HOUR) == {"a": "removed", "b": "active", "c": "published"}
    assert at(t0 + 5 * HOUR + dt.timedelta(seconds=1)) == {
        "a": "removed",
        "b": "removed",
        "c": "active",
    }


def test_signing_without_any_key_says_how_to_fix(session: Session) -> None:
    for row in session.scalars(select(SigningKey).where(SigningKey.alg == "ES256")):
        session.delete(row)
    session.flush()
    with pytest.raises(NoActiveKey, match="kluis keys rotate"):
        Keyring(b"k" * 40, retention=HOUR).sign_jwt(session, {}, "ES256")


def test_es256_tokens_verify_with_published_key(session: Session, keyring: Keyring) -> None:
    token = keyring.sign_jwt(session, {"x": 1}, "ES256", headers={"typ": "test+jwt"})
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "test+jwt"
    public = keyring.public_key(session, header["kid"])
    assert jwt.decode(token, public, algorithms=["ES256"]) == {"x": 1}
    assert json.dumps(keyring.jwks(session))  # serialisable as served


def test_public_key_cached_per_kid_still_follows_the_derived_state(
    keyring: Keyring, session: Session
) -> None:
    """`public_key` keeps the parsed key per kid, but a key parsed while active is unknown
    once removed, exactly when `statuses` says so (a published key is known at once)."""
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False):
        old_kid = keyring.active_key(session, "ES256")
        cached = keyring.public_key(session, old_kid)
        new = keyring.rotate(session, "ES256", publish_delay=HOUR)
        assert keyring.public_key(session, new.kid) is not None  # published
        assert keyring.public_key(session, old_kid) is cached
    moments = (
        start + HOUR + dt.timedelta(seconds=1),
        start + HOUR + keyring.retention - dt.timedelta(seconds=1),
        start + HOUR + keyring.retention + dt.timedelta(seconds=1),
    )
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            for status in keyring.statuses(session, "ES256"):
                if status.state is KeyState.REMOVED:
                    with pytest.raises(UnknownKey):
                        keyring.public_key(session, status.kid)
                else:
                    assert keyring.public_key(session, status.kid) is not None
    with time_machine.travel(moments[-1], tick=False), pytest.raises(UnknownKey):
        keyring.public_key(session, old_kid)
    with pytest.raises(UnknownKey):
        keyring.public_key(session, "es256-no-such-key")


def test_a_kid_noted_with_a_read_serves_only_the_current_transaction(
    db: Database, keyring: Keyring
) -> None:
    """`note_active_kid` (the kid read with a request's own row, `active_kid_column`) answers
    `active_key` within that transaction only; the next transaction reads the table again."""
    with db.transaction() as session:
        real = keyring.active_key(session, "RS256")
        keyring.note_active_kid(session, "RS256", "noted-kid")
        assert keyring.active_key(session, "RS256") == "noted-kid"
        assert keyring.active_key(session, "ES256") != "noted-kid"  # per algorithm
        keyring.note_active_kid(session, "ES256", "")  # the latest started lost its key
        with pytest.raises(NoActiveKey):
            keyring.active_key(session, "ES256")
        keyring.note_active_kid(session, "RS256", None)  # none started at all
        with pytest.raises(NoActiveKey):
            keyring.active_key(session, "RS256")
    with db.transaction() as session:
        assert keyring.active_key(session, "RS256") == real


def test_the_active_kid_column_reads_what_active_key_reads(
    session: Session, keyring: Keyring
) -> None:
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False):
        before = keyring.active_key(session, "ES256")
        new = keyring.rotate(session, "ES256", publish_delay=HOUR)
        column = select(active_kid_column("ES256"))
        assert session.execute(column, {"now": start}).scalar_one() == before
        later = start + HOUR + dt.timedelta(seconds=1)
        assert session.execute(column, {"now": later}).scalar_one() == new.kid
        session.execute(
            SigningKey.__table__.update()
            .where(SigningKey.kid == new.kid)
            .values(private_key_enc=None)
        )
        assert session.execute(column, {"now": later}).scalar_one() == ""
        too_early = start - dt.timedelta(days=3650)
        assert session.execute(column, {"now": too_early}).scalar_one() is None
