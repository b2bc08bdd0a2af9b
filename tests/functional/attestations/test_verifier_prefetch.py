"""direct_post reads the session, the credential key's removal check and its status entry in
one statement (`attestations/verifier/prefetch.py`): the values it notes answer exactly what
the separate reads answered, and a presentation still fails every check they feed."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.errors import StatusUnavailable
from attestations.models import IssuedCredential
from attestations.own_status import (
    note_own_status,
    own_status,
    own_status_columns,
    own_status_params,
)
from attestations.sdjwt import HeldSdJwt, issue_sd_jwt, public_jwk
from attestations.statuslist import INVALID, VALID, revoke_credential
from attestations.verifier.prefetch import CredentialRefs, own_credential_refs
from core.db import utcnow
from keys import Keyring, KeyState, UnknownKey, successor_started_column
from tests.conftest import TEST_ISSUER
from tests.support.oidc import RP, make_rp
from tests.support.wallet import StoredCredential, Wallet

LIMIT = 256 * 1024
DAY = dt.timedelta(days=1)


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


@pytest.fixture
def issued(session: Session, holder: StoredCredential) -> IssuedCredential:
    return session.scalars(select(IssuedCredential)).one()


def start(client: TestClient, rp: RP) -> dict[str, Any]:
    query = {
        "credentials": [
            {
                "id": "residence",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [AttestationConfig(TEST_ISSUER).vct("postcode")]},
                "claims": [{"path": ["postcode_area"]}],
            }
        ]
    }
    body = {"dcql_query": query, "purpose": "Stemmen in buurt 1087"}
    response = client.post("/verifier/sessions", json=body, auth=rp.basic())
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def presentation(holder: StoredCredential) -> str:
    return holder.present([("postcode_area",)], "nonce", "aud")


def token(*items: str, entry: str = "residence") -> str:
    return json.dumps({entry: list(items)})


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


# --- what is read from the unverified presentation ---------------------------------------------


def test_refs_name_the_key_and_status_entry_of_one_own_presentation(
    holder: StoredCredential, issued: IssuedCredential
) -> None:
    refs = own_credential_refs(token(presentation(holder)), TEST_ISSUER, LIMIT)

    assert refs is not None
    claims = HeldSdJwt.parse(holder.credential)
    assert refs.kid == claims.header["kid"]
    assert refs == CredentialRefs(refs.kid, issued.status_list_id, issued.status_idx)


def test_refs_are_not_read_for_anything_else(holder: StoredCredential) -> None:
    """Several presentations, another issuer, a list of another issuer, malformed tokens: no
    refs, so everything is read the usual way (and refused by the check that refuses it)."""
    one = presentation(holder)
    jws, rest = one.split(".", 1)[0], one.split("~", 1)[1]
    header = {"alg": "ES256", "kid": "k", "typ": "dc+sd-jwt"}
    other_list = {"iss": TEST_ISSUER, "status": {"status_list": {"idx": 1, "uri": "https://x/1"}}}
    nested_uri = AttestationConfig(TEST_ISSUER).status_uri("a/b")
    nested = {"iss": TEST_ISSUER, "status": {"status_list": {"idx": 1, "uri": nested_uri}}}
    for vp_token in (
        None,
        "",
        "not json",
        "[]",
        token(one, one),
        json.dumps({"a": [one], "b": [one]}),
        json.dumps({"residence": one}),
        token("x.y.z~"),
        token(f"{jws}.{_b64(other_list)}.sig~{rest}"),
        token(f"{_b64(header)}.{_b64(other_list)}.sig~{rest}"),
        token(f"{_b64(header)}.{_b64({'iss': TEST_ISSUER})}.sig~"),
        token(f"{_b64(header)}.{_b64(nested)}.sig~"),
    ):
        assert own_credential_refs(vp_token, TEST_ISSUER, LIMIT) is None, vp_token
    assert own_credential_refs(token(one), "https://other.example", LIMIT) is None
    assert own_credential_refs(token(one), TEST_ISSUER, len(token(one)) - 1) is None


# --- the noted values answer what the separate reads answer ------------------------------------


@contextlib.contextmanager
def statements_run(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def on_execute(conn: object, cursor: object, statement: str, *args: object) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def test_a_noted_status_entry_answers_own_status_without_a_read(
    session: Session, issued: IssuedCredential, engine: Engine
) -> None:
    def read_with_a_row(list_id: str, idx: int) -> tuple[Any, Any]:
        row = session.execute(select(*own_status_columns()), own_status_params(list_id, idx))
        size, revoked = row.one()
        return size, revoked

    list_id, idx = issued.status_list_id, issued.status_idx
    entries = [(list_id, idx), (list_id, 10**9), (list_id, 2**40), ("no-such-list", 0)]
    expected: dict[tuple[str, int], Any] = {}
    revoke_credential(session, issued.id, "operator", "operator:cli")
    for entry in entries:
        try:
            expected[entry] = own_status(session, *entry)
        except StatusUnavailable as exc:
            expected[entry] = str(exc)
    assert expected[(list_id, idx)] == INVALID

    noted = {entry: read_with_a_row(*entry) for entry in entries}
    with statements_run(engine) as statements:
        for entry in entries:
            note_own_status(session, *entry, *noted[entry])
            try:
                assert own_status(session, *entry) == expected[entry]
            except StatusUnavailable as exc:
                assert str(exc) == expected[entry]
    assert statements == []


def test_a_noted_entry_is_used_for_that_entry_only(
    session: Session, issued: IssuedCredential
) -> None:
    note_own_status(session, issued.status_list_id, issued.status_idx, 0, True)

    assert own_status(session, issued.status_list_id, issued.status_idx + 1) == VALID
    with pytest.raises(StatusUnavailable):  # the noted size, 0
        own_status(session, issued.status_list_id, issued.status_idx)


def test_the_successor_column_removes_keys_when_public_key_does(
    keyring: Keyring, session: Session
) -> None:
    """Across a rotation, a key's started successor read by `successor_started_column` and
    noted makes `public_key` refuse exactly the keys `statuses` calls removed."""
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False):
        old_kid = keyring.active_key(session, "ES256")
        keyring.public_key(session, old_kid)
        new = keyring.rotate(session, "ES256", publish_delay=DAY)
        session.flush()
    column = select(successor_started_column())
    moments = (
        start + dt.timedelta(hours=1),
        start + DAY + dt.timedelta(seconds=1),
        start + DAY + keyring.retention - dt.timedelta(seconds=1),
        start + DAY + keyring.retention + dt.timedelta(seconds=1),
    )
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            for status in keyring.statuses(session, "ES256"):
                params = {"successor_of": status.kid, "now": moment}
                started = session.execute(column, params).scalar_one_or_none()
                keyring.note_successor(session, status.kid, moment, started)
                if status.state is KeyState.REMOVED:
                    with pytest.raises(UnknownKey):
                        keyring.public_key(session, status.kid)
                else:
                    assert keyring.public_key(session, status.kid) is not None
    assert {status.kid for status in keyring.statuses(session, "ES256")} >= {old_kid, new.kid}
    params = {"successor_of": "es256-no-such-key", "now": moments[-1]}
    assert session.execute(column, params).scalar_one_or_none() is None


# --- end to end: the checks the noted values feed still refuse -----------------------------------


def test_a_credential_revoked_after_its_session_started_is_rejected(
    client: TestClient,
    rp: RP,
    wallet: Wallet,
    session: Session,
    issued: IssuedCredential,
) -> None:
    created = start(client, rp)
    revoke_credential(session, issued.id, "operator", "operator:cli")
    session.commit()

    answer = wallet.present(created["qr_payload"])

    assert answer.status_code == 400 and "revoked" in answer.json()["error_description"]


def _signed_by_the_active_key(
    keyring: Keyring, session: Session, holder: StoredCredential, issued: IssuedCredential
) -> StoredCredential:
    """The holder's credential as Kluis's active key signs it, valid for 1000 days: so it is
    still valid when that key has been removed (retention is longer than a real one's life)."""
    kid, key = keyring.signing_key(session, "ES256")
    config = AttestationConfig(TEST_ISSUER)
    now = int(utcnow().timestamp())
    status = {"idx": issued.status_idx, "uri": config.status_uri(issued.status_list_id)}
    credential = issue_sd_jwt(
        {
            "iss": TEST_ISSUER,
            "vct": config.vct("postcode"),
            "exp": now + 1000 * 86_400,
            "status": {"status_list": status},
            "postcode": "1087AB",
            "postcode_area": "1087",
        },
        issuer_key=key,
        disclosable=(("postcode",), ("postcode_area",)),
        alg="ES256",
        typ="dc+sd-jwt",
        kid=kid,
        holder_key=public_jwk(holder.key.public_key()),
        iat=now,
    ).serialize()
    return StoredCredential(credential, holder.key)


def test_a_credential_whose_key_was_removed_is_rejected(
    client: TestClient,
    rp: RP,
    wallet: Wallet,
    keyring: Keyring,
    session: Session,
    holder: StoredCredential,
    issued: IssuedCredential,
) -> None:
    credential = _signed_by_the_active_key(keyring, session, holder, issued)
    keyring.rotate(session, "ES256", publish_delay=dt.timedelta(0))
    session.commit()
    retired = utcnow()

    with time_machine.travel(retired + keyring.retention - DAY, tick=True):
        created = start(client, rp)
        kept = wallet.present(created["qr_payload"], credential=credential)
    with time_machine.travel(retired + keyring.retention + DAY, tick=True):
        created = start(client, rp)
        removed = wallet.present(created["qr_payload"], credential=credential)

    assert kept.status_code == 200, kept.text  # retired, still published: accepted
    assert removed.status_code == 400, removed.text
    assert "issuer_key_unresolved" in removed.json()["error_description"]
