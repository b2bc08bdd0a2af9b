"""Where the shared-address rule's addresses come from (issue 10): the desk's optional house
number and a letter's address, each kept only as the keyed hash `vouching.record_address_ref`
records. Two residents at the vouchee's address, proved by the same source, count once; and
after both flows no house number is anywhere in the database file."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from attestations import vouching
from attestations.letters.models import LetterCode
from attestations.letters.service import GeneratedBatch
from attestations.models import CredentialOffer, IssuedCredential
from attestations.vouching.models import VouchingAddress
from audit.models import AuditEntry
from core.db import Database
from identity import DESK, SESSION_COOKIE, grant_role
from service.app import create_app_from_runtime
from service.runtime import Runtime, build_runtime
from tests.conftest import TEST_ISSUER, make_settings
from tests.support.audit import discloses, readable_values
from tests.support.databases import backend
from tests.support.letters import config_of, make_batch
from tests.support.oidc import Resident, hidden_fields, make_resident

DESK_NUMBER = "48613"  # house numbers no other data in the database could spell by chance
LETTER_NUMBER = "52907"
OTHER_NUMBER = "61358"
POSTCODE_FORM = {
    "type": "postcode",
    "postcode": "1087 ab",
    "municipality_code": "GM0363",
    "municipality_name": "Amsterdam",
    "document_checked": "yes",
}
PEOPLE = ("jan", "piet", "klaas")


@dataclass
class Neighbourhood:
    client: TestClient
    runtime: Runtime
    session: Session
    people: dict[str, Resident]

    def log_in(self, who: Resident) -> None:
        self.client.cookies.set(SESSION_COOKIE, who.sid)

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        token = hidden_fields(self.client.get("/account").text)["csrf_token"]
        return self.client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)

    def keep(self, who: Resident, offer_id: str, tx_code: str) -> None:
        """The resident keeps the offer in the built-in wallet: a valid `postcode` credential."""
        self.log_in(who)
        kept = self.post("/account/wallet/keep", {"offer_id": offer_id, "tx_code": tx_code})
        assert kept.headers["location"] == "/account?wallet=kept#wallet", kept.text

    def at_desk(self, operator: Resident, who: str, number: str, addition: str = "") -> None:
        self.log_in(operator)
        form = {**POSTCODE_FORM, "postcode-resident": f"{who}@example.org"}
        page = self.post(
            "/desk/offers", {**form, "house_number": number, "house_addition": addition}
        )
        assert page.status_code == 200, page.text
        tx_code = page.text.split('class="code">')[1].split("<")[0]
        offer = self.session.scalars(
            select(CredentialOffer)
            .where(CredentialOffer.account_id == self.people[who].account_id)
            .order_by(CredentialOffer.created_at.desc())
        ).first()
        self.session.commit()  # holds no transaction while the app writes (SQLite)
        assert offer is not None
        self.keep(self.people[who], offer.id, tx_code)

    def by_letter(self, who: str, code: str) -> None:
        self.log_in(self.people[who])
        page = self.post("/letters/redeem", {"code": code})
        assert page.status_code == 200, page.text
        fields = hidden_fields(page.text)
        self.keep(self.people[who], fields["offer_id"], fields["tx_code"])

    def count_for_klaas(self) -> int:
        """Jan and Piet, both seeds, confirm Klaas (once): how many of them count."""
        runtime, session = self.runtime, self.session
        klaas = self.people["klaas"].account_id
        if vouching.progress(session, runtime.vouching, klaas).confirmations:
            return vouching.progress(session, runtime.vouching, klaas).confirmations
        for voucher in ("jan", "piet"):
            vouching.appoint_seed(
                session, runtime.subject_keys, account_id=self.people[voucher].account_id, actor="t"
            )
            opened = vouching.open_request(
                session,
                runtime.subject_keys,
                runtime.vouching,
                vouchee_id=self.people["klaas"].account_id,
            )
            vouching.confirm(
                session,
                runtime.subject_keys,
                runtime.vouching,
                voucher_id=self.people[voucher].account_id,
                request_id=opened.id,
            )
            session.commit()
        return vouching.progress(session, runtime.vouching, klaas).confirmations


def neighbourhood(client: TestClient, runtime: Runtime, session: Session) -> Neighbourhood:
    people = {
        who: make_resident(runtime, session, email=f"{who}@example.org", name=None)
        for who in PEOPLE
    }
    return Neighbourhood(client, runtime, session, people)


def desk_operator(hood: Neighbourhood) -> Resident:
    operator = make_resident(hood.runtime, hood.session, email="balie@example.org", name=None)
    grant_role(hood.session, hood.runtime.subject_keys, operator.account_id, DESK, "operator:test")
    hood.session.commit()
    return operator


def letters_for_one_address(hood: Neighbourhood, number: str) -> GeneratedBatch:
    """Three letters to one address (`--per-address 3`), for a list without a poll."""
    rows = ["postcode,huisnummer,toevoeging", f"1087AB,{number},b"]
    config = config_of(hood.runtime.settings)
    return make_batch(hood.session, config, rows=rows, poll_id=None, per_address=3)


def refs(session: Session) -> dict[str, tuple[str, str]]:
    return {
        row.account_id: (row.address_ref, row.source)
        for row in session.scalars(select(VouchingAddress))
    }


def test_housemates_proved_at_the_desk_count_once(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    hood = neighbourhood(client, runtime, session)
    operator = desk_operator(hood)
    for who in PEOPLE:
        hood.at_desk(operator, who, DESK_NUMBER, addition="a" if who == "piet" else "-A")
    expected = runtime.vouching.address_ref("1087AB", DESK_NUMBER, "A")
    assert set(refs(session).values()) == {(expected, "desk")}
    assert hood.count_for_klaas() == 1

    hood.at_desk(operator, "piet", OTHER_NUMBER)  # Piet moved out: the desk saw his new address
    assert hood.count_for_klaas() == 2
    entries = session.scalars(
        select(AuditEntry.entry).where(AuditEntry.event == "vouching.address_recorded")
    ).all()
    assert len(entries) == 4
    operator_ref = runtime.subject_keys.reference(session, operator.account_id)
    assert all(f"desk:{operator_ref}" in entry for entry in entries)
    assert not any(discloses(entry, DESK_NUMBER) for entry in entries)
    for held in session.scalars(select(IssuedCredential)):
        assert held.type == "postcode"


def test_housemates_proved_by_letters_count_once(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    hood = neighbourhood(client, runtime, session)
    batch = letters_for_one_address(hood, LETTER_NUMBER)
    rows = session.scalars(select(LetterCode).where(LetterCode.batch_id == batch.batch_id)).all()
    expected = runtime.vouching.address_ref("1087AB", LETTER_NUMBER, "B")
    assert {row.address_ref for row in rows} == {expected}
    for who, letter in zip(PEOPLE, batch.letters, strict=True):
        hood.by_letter(who, letter.code)
    assert refs(session) == {p.account_id: (expected, "letter") for p in hood.people.values()}
    assert hood.count_for_klaas() == 1


def test_the_desk_refuses_a_malformed_house_number_and_records_nothing(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    hood = neighbourhood(client, runtime, session)
    operator = desk_operator(hood)
    hood.log_in(operator)
    form = {**POSTCODE_FORM, "postcode-resident": "jan@example.org", "house_number": "12 bis 3"}
    page = hood.post("/desk/offers", form)
    assert page.status_code == 400
    assert "Vul een huisnummer van 1 tot 99999 in" in page.text
    assert session.scalars(select(CredentialOffer)).all() == []
    assert refs(session) == {}
    # without a house number the desk issues the proof and records no address
    page = hood.post("/desk/offers", {**form, "house_number": ""})
    assert page.status_code == 200, page.text
    assert refs(session) == {}


# --- the byte scan --------------------------------------------------------------------------


def database_bytes(url: str) -> Iterator[bytes]:
    """What someone with the database's disk could read: the SQLite file and its journal, or a
    dump of the PostgreSQL schema."""
    parsed = make_url(url)
    if backend() == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = Path(f"{parsed.database}{suffix}")
            if path.exists():
                yield path.read_bytes()
        return
    options = parsed.query["options"]
    assert isinstance(options, str)
    schema = options.removeprefix("-csearch_path=")
    plain = url.replace("postgresql+psycopg://", "postgresql://").split("?")[0]
    dump = subprocess.run(
        ["pg_dump", "--data-only", "--schema", schema, "--dbname", plain],
        capture_output=True,
        check=True,
        timeout=60,
    )
    yield dump.stdout


@pytest.fixture
def committed(fresh_database: str, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on a database of its own whose commits are real (they reach the file)."""
    database = Database.from_url(fresh_database)
    runtime = build_runtime(make_settings(tmp_path / "data", fresh_database), database)
    with database.transaction() as session:
        runtime.keyring.ensure_keys(session)
    try:
        yield runtime
    finally:
        database.dispose()


def test_no_house_number_reaches_the_database_file(committed: Runtime) -> None:
    runtime = committed
    with (
        runtime.db.session() as session,
        TestClient(create_app_from_runtime(runtime), base_url=TEST_ISSUER) as client,
    ):
        hood = neighbourhood(client, runtime, session)
        operator = desk_operator(hood)
        for who in ("jan", "klaas"):
            hood.at_desk(operator, who, DESK_NUMBER, addition="c")
        batch = letters_for_one_address(hood, LETTER_NUMBER)
        hood.by_letter("piet", batch.letters[0].code)
        assert len(refs(session)) == 3
        session.commit()
    traces = [
        data.decode("latin-1").lower() for data in database_bytes(runtime.settings.database_url)
    ]
    assert any("vouching.address_recorded" in text for text in traces)  # the scan reads data
    assert any("1087ab" in text for text in traces)  # a letter keeps its postcode, plain
    with runtime.db.session() as session:
        values = text_values(session)
    assert any("1087AB" in value for value in values)  # the exact check reads the rows
    for number in (DESK_NUMBER, LETTER_NUMBER):
        # every text and JSON value of every table, read through SQL: exact
        assert not [v for v in values if re.search(rf"(?<!\d){number}(?!\d)", v)], number
        # and the bytes on disk, for what SQL no longer shows (the WAL, freed pages). Not after a
        # hex digit, "x" (a bytea) or "." (a fraction of a second): chance digits. A number
        # stored right after such a byte of the previous column is missed here, not above.
        written = re.compile(rf"(?<![0-9a-fx.]){number}(?![0-9])")
        assert not any(written.search(text) for text in traces), number


def text_values(session: Session) -> list[str]:
    """Every text value of every table (the leaves of JSON values), without digests,
    identifiers and fractions of a second (`tests.support.audit.readable_values`)."""
    values: list[str] = []
    for table in inspect(session.connection()).get_table_names():
        for row in session.execute(text(f'SELECT * FROM "{table}"')):
            for value in row:
                if isinstance(value, str) and value[:1] in ("{", "["):
                    with contextlib.suppress(ValueError):
                        value = json.loads(value)
                if isinstance(value, (str, dict, list)):
                    values.extend(readable_values([value]))
    return values
