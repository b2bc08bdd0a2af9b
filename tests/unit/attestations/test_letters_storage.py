"""After generating, redeeming and voting on paper, the database file holds no code and no
house number (a byte scan of a real SQLite file)."""

from __future__ import annotations

import re
from pathlib import Path

from attestations.letters.codes import grouped
from attestations.letters.service import redeem_letter
from attestations.letters.votes import paper_vote
from core.db import Database, make_engine
from keys import SubjectKeys
from service import migrate
from tests.conftest import make_settings
from tests.support.attestations import make_account
from tests.support.letters import config_of, make_batch


def test_no_code_or_house_number_reaches_the_database_file(
    tmp_path: Path, subject_keys: SubjectKeys
) -> None:
    url = f"sqlite:///{tmp_path / 'letters.sqlite3'}"
    migrate.upgrade(url)
    config = config_of(make_settings(tmp_path / "data", url))
    database = Database(make_engine(url))
    with database.transaction() as session:
        batch = make_batch(
            session, config, rows=["1087AB,47113,xqzw", "1087AB,47119"], commit=False
        )
        account = make_account(session, subject_keys)
    first, second = batch.letters
    with database.session() as session:
        redeem_letter(
            session, config, subject_keys, account_id=account, code=first.code, ip="192.0.2.1"
        )
        session.commit()
        paper_vote(
            session, config, client_id="c", sector="s", code=second.code, poll_id="buurtbudget-2027"
        )
        session.commit()
    database.dispose()

    stored = b"".join(p.read_bytes() for p in tmp_path.glob("letters.sqlite3*"))
    assert b"1087AB" in stored  # what a letter keeps: the postcode (the scan does read)
    for letter in (first, second):
        assert letter.code.encode() not in stored
        assert grouped(letter.code).encode() not in stored
    # a house number alone would hide among hex digests: look for it standing apart
    for number in (b"47113", b"47119"):
        assert not re.search(rb"(?<![0-9a-fA-F])" + number + rb"(?![0-9a-fA-F])", stored)
    assert b"XQZW" not in stored and b"huisnummer" not in stored
