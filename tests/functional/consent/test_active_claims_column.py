"""`latest_decisions_column` and `adopt_decisions` (authorize reads the consent decisions with
the browser session, UserInfo with its token: one round trip less each) answer what
`active_claims` and `decided_claims` answer from the ledger, for every history of decisions;
and what was adopted is used only in its own transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import literal, select, true
from sqlalchemy.orm import Session

from consent import (
    active_claims,
    adopt_decisions,
    decided_claims,
    latest_decisions_column,
    record_decision,
)
from consent.ledger import WITHDRAWN, withdraw_consent
from consent.models import ConsentEvent, ConsentRecord
from identity.accounts.models import Account
from identity.accounts.service import adopt_account, read_account
from identity.oidc.models import Client
from service.runtime import Runtime
from tests.support.databases import backend
from tests.support.oidc import make_resident, make_rp
from tests.support.statements import counted

ORIGIN = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def pair(runtime: Runtime, session: Session) -> tuple[str, str]:
    """An account and a platform without any consent yet."""
    resident = make_resident(runtime, session)
    return resident.account_id, make_rp(session).client_id


def _event(
    session: Session, account: str, client: str, claim: str, purpose: str, *history: tuple[int, str]
) -> None:
    """A record of `claim` for `purpose` with `history` as its events, one minute apart from
    ORIGIN (`at` of two records' events can then be equal)."""
    record = session.scalar(
        select(ConsentRecord).where(
            ConsentRecord.account_id == account,
            ConsentRecord.client_id == client,
            ConsentRecord.claim == claim,
            ConsentRecord.purpose == purpose,
        )
    )
    if record is None:
        record = ConsentRecord(
            id=uuid.uuid4().hex,
            account_id=account,
            client_id=client,
            claim=claim,
            purpose=purpose,
            created_at=ORIGIN,
        )
        session.add(record)
        session.flush()
    for minutes, name in history:
        session.add(
            ConsentEvent(
                record_id=record.id,
                event=name,
                at=ORIGIN + dt.timedelta(minutes=minutes),
                actor="resident",
                method="test",
            )
        )
    session.flush()


def _column(session: Session, account: str, client: str) -> str | None:
    return session.scalar(select(latest_decisions_column(literal(account), literal(client))))


def _held(
    session: Session,
    account: str,
    client: str,
    read: Callable[[Session, str, str], set[str]] = active_claims,
) -> set[str]:
    """`read` (`active_claims` or `decided_claims`) answered from what was adopted: with no
    statement of its own."""
    with counted(session.get_bind()) as counts:  # type: ignore[arg-type]
        claims = read(session, account, client)
    assert counts["statements"] == 0, "the adopted decisions were read again"
    return claims


def _adopted(session: Session, account: str, client: str) -> set[str]:
    """`active_claims` after adopting the column's value."""
    adopt_decisions(session, account, client, _column(session, account, client))
    return _held(session, account, client)


SERVICE = "service-provision"
# name -> (records: claim, purpose, events), the claims under consent afterwards
HISTORIES: dict[str, tuple[list[tuple[str, str, tuple[tuple[int, str], ...]]], set[str]]] = {
    "none": ([], set()),
    "given": ([("email", SERVICE, ((1, "given"),))], {"email"}),
    "withdrawn": ([("email", SERVICE, ((1, "given"), (2, WITHDRAWN)))], set()),
    "refused": ([("email", SERVICE, ((1, "refused"),))], set()),
    "given then refused": ([("email", SERVICE, ((1, "given"), (2, "refused")))], set()),
    "refused then given": ([("name", SERVICE, ((1, "refused"), (5, "given")))], {"name"}),
    "given again after a withdrawal": (
        [("name", SERVICE, ((1, "given"), (2, WITHDRAWN), (3, "given")))],
        {"name"},
    ),
    "expired": ([("email", SERVICE, ((1, "given"), (4, "expired")))], set()),
    # two purposes of one claim: the latest event over both decides
    "withdrawn under one purpose later": (
        [
            ("email", SERVICE, ((1, "given"),)),
            ("email", "newsletter", ((0, "given"), (7, WITHDRAWN))),
        ],
        set(),
    ),
    "given under another purpose later": (
        [
            ("email", SERVICE, ((1, "given"), (2, WITHDRAWN))),
            ("email", "newsletter", ((6, "given"),)),
        ],
        {"email"},
    ),
    # equal moments: the event inserted last (the higher id) is the latest, as in the ledger
    "equal moments, withdrawn last": (
        [("email", SERVICE, ((3, "given"),)), ("email", "newsletter", ((3, WITHDRAWN),))],
        set(),
    ),
    "equal moments, given last": (
        [("email", "newsletter", ((3, WITHDRAWN),)), ("email", SERVICE, ((3, "given"),))],
        {"email"},
    ),
    # presentations and polls never count here
    "scoped purposes": (
        [
            ("name", "presentation:abc", ((1, "given"),)),
            ("poll_pseudonym", "poll:p-1", ((1, "given"),)),
            ("email", SERVICE, ((1, "given"),)),
        ],
        {"email"},
    ),
    # names are read back whatever characters they hold
    "names with digits, colons and other letters": (
        [
            (name, SERVICE, ((1, "given"),))
            for name in ("3:ab:c", "12", ":", "", "wallet.postcode_area", "naïve é", "𝔎luis")
        ],
        {"3:ab:c", "12", ":", "", "wallet.postcode_area", "naïve é", "𝔎luis"},
    ),
}


@pytest.mark.parametrize("history", list(HISTORIES), ids=list(HISTORIES))
def test_the_column_answers_as_the_ledger(
    session: Session, pair: tuple[str, str], history: str
) -> None:
    account, client = pair
    records, expected = HISTORIES[history]
    for claim, purpose, events in records:
        _event(session, account, client, claim, purpose, *events)
    assert active_claims(session, account, client) == expected
    decided = decided_claims(session, account, client)
    assert _adopted(session, account, client) == expected
    assert _held(session, account, client, decided_claims) == decided


def test_the_column_correlates_with_each_row_of_the_statement_it_is_in(
    runtime: Runtime, session: Session, pair: tuple[str, str]
) -> None:
    """As UserInfo uses it: with the account and platform of each row of its statement."""
    account, client = pair
    other_account = make_resident(runtime, session, email="buur@example.org").account_id
    other_client = make_rp(session, name="Ander platform").client_id
    _event(session, account, client, "email", SERVICE, (1, "given"))
    _event(session, account, other_client, "name", SERVICE, (1, "given"))
    _event(session, other_account, client, "preferred_username", SERVICE, (1, "given"))
    _event(session, other_account, other_client, "email", SERVICE, (1, "given"), (2, WITHDRAWN))
    expected = {
        (account, client): {"email"},
        (account, other_client): {"name"},
        (other_account, client): {"preferred_username"},
        (other_account, other_client): set(),
    }
    assert {pair: active_claims(session, *pair) for pair in expected} == expected
    rows = session.execute(
        select(Account.id, Client.client_id, latest_decisions_column(Account.id, Client.client_id))
        .join(Client, true())  # every account with every platform
        .where(Account.id.in_([account, other_account]))
        .where(Client.client_id.in_([client, other_client]))
    ).all()
    assert len(rows) == 4
    for account_id, client_id, spelled in rows:
        adopt_decisions(session, account_id, client_id, spelled)
    assert {pair: _held(session, *pair) for pair in expected} == expected


def test_the_column_is_for_its_own_account_and_platform(
    runtime: Runtime, session: Session, pair: tuple[str, str]
) -> None:
    account, client = pair
    other_client = make_rp(session, name="Ander platform").client_id
    _event(session, account, client, "email", "service-provision", (1, "given"))
    _event(session, account, other_client, "name", "service-provision", (1, "given"))
    assert _adopted(session, account, client) == {"email"}
    assert _adopted(session, account, other_client) == {"name"}
    assert _adopted(session, "someone", client) == set()


def test_a_decision_or_withdrawal_in_the_transaction_drops_what_was_adopted(
    session: Session, pair: tuple[str, str]
) -> None:
    account, client = pair
    _event(session, account, client, "email", "service-provision", (1, "given"))
    assert _adopted(session, account, client) == {"email"}
    record_decision(
        session, account_id=account, subject_ref=None, client_id=client, given=["name"], refused=[]
    )
    assert active_claims(session, account, client) == {"email", "name"}
    assert _adopted(session, account, client) == {"email", "name"}
    withdraw_consent(
        session,
        account_id=account,
        subject_ref="ab" * 32,
        client_id=client,
        claims=["email"],
        actor="resident",
        method="test",
    )
    assert active_claims(session, account, client) == {"name"}


def test_a_refusal_in_the_transaction_takes_an_adopted_claim_away(
    session: Session, pair: tuple[str, str]
) -> None:
    account, client = pair
    _event(session, account, client, "email", SERVICE, (1, "given"))
    assert _adopted(session, account, client) == {"email"}
    record_decision(
        session, account_id=account, subject_ref=None, client_id=client, given=[], refused=["email"]
    )
    assert active_claims(session, account, client) == set()


def test_what_was_adopted_ends_with_its_transaction(
    session: Session, pair: tuple[str, str]
) -> None:
    account, client = pair
    session.connection()  # a transaction begins, as with the statement that read the value
    adopt_decisions(session, account, client, "5:email5:given")
    assert active_claims(session, account, client) == {"email"}  # held, though never given
    session.commit()
    assert active_claims(session, account, client) == set()  # a new transaction reads
    session.connection()
    adopt_decisions(session, account, client, "5:email5:given")
    session.rollback()
    assert active_claims(session, account, client) == set()


@pytest.mark.parametrize(
    "spelled",
    [
        "5:email",  # a claim without its event
        "5:email5:give",
        "x:email5:given",
        "5email5:given",
        "-1:a5:given",
        " 5:email5:given",
        "+5:email5:given",
        "05:email5:given",
        "٥:email5:given",  # an Arabic-Indic digit five
        "5_0:" + "e" * 50 + "5:given",
        "1:a\x00b5:given",  # SQLite's length() of "a\x00b"
        "5:email5:given5:email7:refused",  # one claim twice
    ],
)
def test_a_value_that_cannot_be_read_is_not_adopted(
    session: Session, pair: tuple[str, str], spelled: str
) -> None:
    account, client = pair
    _event(session, account, client, "name", "service-provision", (1, "given"))
    adopt_decisions(session, account, client, spelled)
    assert active_claims(session, account, client) == {"name"}  # read from the ledger


def test_an_adopted_account_is_not_read_again_and_only_its_own(
    session: Session, pair: tuple[str, str]
) -> None:
    account_id, _ = pair
    account = read_account(session, account_id)
    assert account is not None
    adopt_account(session, account_id, account)
    with counted(session.get_bind()) as counts:  # type: ignore[arg-type]
        assert read_account(session, account_id) is account
    assert counts["statements"] == 0
    # an outer join that found no account: none, and nothing read to learn it
    adopt_account(session, "gone", None)
    with counted(session.get_bind()) as counts:  # type: ignore[arg-type]
        assert read_account(session, "gone") is None
    assert counts["statements"] == 0
    # another account's snapshot is not held for this one
    adopt_account(session, "someone-else", account)
    assert read_account(session, "someone-else") is None  # read: there is no such account
    session.commit()
    assert read_account(session, account_id) is not account  # a new transaction reads


@pytest.mark.skipif(backend() == "postgresql", reason="PostgreSQL's text holds no NUL")
def test_a_name_sqlite_measures_short_is_read_from_the_ledger(
    session: Session, pair: tuple[str, str]
) -> None:
    """SQLite's length() stops at a NUL character: the column's value does not read back,
    so nothing is adopted and the ledger answers."""
    account, client = pair
    _event(session, account, client, "a\x00b", SERVICE, (1, "given"))
    spelled = _column(session, account, client)
    adopt_decisions(session, account, client, spelled)
    with counted(session.get_bind()) as counts:  # type: ignore[arg-type]
        assert active_claims(session, account, client) == {"a\x00b"}
    assert counts["statements"] == 1
