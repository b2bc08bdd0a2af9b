"""The e-mail to a resident whose peer `real_person` attestation ended (issue 10: residents who
fall below the threshold are "revoked, notified, may re-verify"), besides the message on their
vouching page and the event to their platforms.

`stage_lapse_mails` picks the residents (`vouching.lapse_notices`: those left without any
`real_person` attestation because its confirmations no longer count or it reached the peer
validity), reads their address while their data key exists, and stages one message each, in
the language they claimed the attestation in. The messages go out through the accounts'
mailer (`adapters.mail`, as verification and reset mails do) only once the transaction has
COMMITTED: a rolled-back decision tells no one, and no mail is sent while the graph lock is
held. Desk accounts without an e-mail address get none. The text says what happened and how to
verify again; it never says who was found fake or erased, nor that anyone was.

Each staged message is also owed (`models.LapseMail`, written in the deciding transaction):
what it says, not the address. A message sent right after the commit is forgotten; one the
mail server refused, or that the commit's time budget left unsent, stays owed, and the
background worker tries again (`send_owed_mails`, each message claimed before it is sent)
after 5 minutes, then 10, 20 … up to `ATTEMPTS` tries (about 21 hours), reading the address
anew each time: a resident erased meanwhile is mailed nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import delete, event, func, select, true, update
from sqlalchemy.orm import Session, SessionTransaction

from adapters import Mailer
from attestations import vouching
from core import Database, register, rowcount, translate, upsert_insert, utcnow, when
from identity import account_email, get_account
from keys import SubjectKeyDestroyed, SubjectKeys
from rights.models import LapseMail

log = logging.getLogger("kluis.vouching")
# session.info: [(mailer, to, subject, body, (account_id, lapsed_at))]
_PENDING = "kluis.vouching.mail.pending"
FIRST_RETRY = dt.timedelta(minutes=5)  # doubled after each failed try
ATTEMPTS = 9  # the try right after the commit and eight more: the last about 21 hours later
HOOK_BUDGET_S = 20.0  # seconds the committing request waits for its mail at most
WORKER_BUDGET_S = 20.0  # seconds a round of the background worker sends for at most
CLAIM_TRIES = 3  # due messages another round claimed first, before this round gives way
PAGE = "/account/vouching"

register(
    {
        "vouching.mail.subject": {
            "nl": "Je bewijs 'echt persoon' geldt niet meer",
            "en": "Your 'real person' proof is no longer valid",
        },
        "vouching.mail.below_threshold": {
            "nl": "Hallo,\n\nJe bewijs 'echt persoon' van buren is op {date} ingetrokken: een "
            "van de bevestigingen waarop het rustte, telt niet meer. Dit is geen oordeel over "
            "jou.\n\nPlatforms waarmee je dit bewijs deelde, krijgen het niet meer.",
            "en": "Hello,\n\nYour 'real person' proof from neighbours was withdrawn on {date}: "
            "one of the confirmations it rested on no longer counts. This is no judgement of "
            "you.\n\nPlatforms you shared this proof with no longer receive it.",
        },
        "vouching.mail.expired": {
            "nl": "Hallo,\n\nJe bewijs 'echt persoon' van buren is op {date} verlopen.\n\n"
            "Platforms waarmee je dit bewijs deelde, krijgen het niet meer.",
            "en": "Hello,\n\nYour 'real person' proof from neighbours expired on {date}.\n\n"
            "Platforms you shared this proof with no longer receive it.",
        },
        "vouching.mail.again": {
            "nl": "Wil je het bewijs weer hebben? Vraag buren die je kennen om je opnieuw te "
            "bevestigen, op de pagina 'Vraag een buur om je te bevestigen':\n\n{link}\n\n"
            "Heeft je gemeente of buurt een balie, dan kan het ook daar, met een "
            "identiteitsbewijs.",
            "en": "Would you like the proof back? Ask neighbours who know you to confirm you "
            "again, on the page 'Ask a neighbour to confirm me':\n\n{link}\n\n"
            "Where your municipality or neighbourhood has a desk, you can also get it there, "
            "with an identity document.",
        },
    }
)


def _message(notice: vouching.LapseNotice, issuer: str) -> tuple[str, str]:
    lang = notice.language
    date = when(notice.at, day_only=True, lang=lang).text
    body = "\n\n".join(
        [
            translate(lang, f"vouching.mail.{notice.reason}", date=date),
            translate(lang, "vouching.mail.again", link=issuer + PAGE),
            translate(lang, "accounts.mail.signature"),
        ]
    )
    return translate(lang, "vouching.mail.subject"), body


def stage_lapse_mails(
    session: Session,
    mailer: Mailer,
    subject_keys: SubjectKeys,
    issuer: str,
    lapses: Iterable[vouching.Lapse],
) -> int:
    """Stage the e-mails of the residents `lapses` left without `real_person`, to be sent when
    `session` commits, and record each as owed in the same transaction. Returns how many were
    staged."""
    staged = 0
    retry_at = utcnow() + FIRST_RETRY
    for notice in vouching.lapse_notices(session, lapses):
        address = _address(session, subject_keys, notice.account_id)
        if not address:  # a desk account without e-mail: their vouching page says it
            continue
        subject, body = _message(notice, issuer)
        if session.get_transaction() is None:
            session.begin()  # so that a rollback, which drops the staged mail, ends it
        _owe(session, notice, retry_at)  # a later lapse replaces an unsent one
        pending = (mailer, address, subject, body, (notice.account_id, notice.at))
        session.info.setdefault(_PENDING, []).append(pending)
        staged += 1
    return staged


def _address(session: Session, subject_keys: SubjectKeys, account_id: str) -> str | None:
    account = get_account(session, account_id)
    try:
        return account_email(session, subject_keys, account) if account else None
    except SubjectKeyDestroyed:  # erased: nobody to write to
        return None


def _send(mailer: Mailer, address: str, subject: str, body: str) -> bool:
    try:
        mailer.send(address, subject, body)
    except Exception as exc:  # the decision stands; the page tells them, the mail comes later
        log.warning(
            "vouching: a lapse e-mail could not be sent",
            extra={"error": type(exc).__name__},
        )
        return False
    return True


def _owe(session: Session, notice: vouching.LapseNotice, retry_at: dt.datetime) -> None:
    """Record the message as owed: one statement (insert, or replace an unsent older one),
    so that a worker forgetting that older one meanwhile cannot fail the decision."""
    values = {
        "account_id": notice.account_id,
        "reason": notice.reason,
        "lapsed_at": notice.at,
        "language": notice.language,
        "attempts": 1,  # the try right after the commit
        "next_attempt_at": retry_at,
    }
    statement = upsert_insert(session, LapseMail).values(values)
    replaced = {name: statement.excluded[name] for name in values if name != "account_id"}
    session.execute(statement.on_conflict_do_update(index_elements=["account_id"], set_=replaced))


@event.listens_for(Session, "after_commit")
def _send_staged(session: Session) -> None:
    """Send what the committed transaction staged, forgetting each message once sent, for at
    most `HOOK_BUDGET_S` (the committing request waits): what is left, or refused, stays owed
    for the background worker. Not when a savepoint is released: only the decision's commit
    counts (the staged mail waits for it, and a rollback drops it)."""
    if session.in_nested_transaction():
        return
    staged = session.info.pop(_PENDING, None) or []
    if not staged:
        return
    started = time.monotonic()
    # a transaction of its own for each message sent (the deciding one has ended), on the
    # same connection (a test's) or engine
    with Session(bind=session.get_bind(), join_transaction_mode="create_savepoint") as own:
        for mailer, address, subject, body, owed in staged:
            if time.monotonic() - started > HOOK_BUDGET_S or not _send(
                mailer, address, subject, body
            ):
                return  # the mail server is slow or down: the worker goes on later
            try:
                _forget(own, [owed])
                own.commit()
            except Exception as exc:  # still owed: sent once more later, rather than never
                own.rollback()
                log.warning(
                    "vouching: a sent lapse e-mail could not be marked sent",
                    extra={"error": type(exc).__name__},
                )


def _forget(session: Session, sent: list[tuple[str, dt.datetime]]) -> None:
    """Delete what was owed for these (account, lapse) pairs: not a later lapse's message."""
    for account_id, lapsed_at in sent:
        session.execute(
            delete(LapseMail).where(
                LapseMail.account_id == account_id, LapseMail.lapsed_at == lapsed_at
            )
        )


@event.listens_for(Session, "after_transaction_end")
def _drop_staged(session: Session, transaction: SessionTransaction) -> None:
    # a rolled-back decision tells no one (after a commit `_send_staged` took them already)
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


class _Due(NamedTuple):
    account_id: str
    lapsed_at: dt.datetime
    attempts: int  # counting this one
    address: str | None  # None: nobody to write to any more
    subject: str
    body: str


def owed_mails(session: Session) -> dict[str, Any]:
    """What is owed, for operators (`kluis vouching mails`): how many messages, when the next
    is tried, the most tries any has had. Counts and times only."""
    count, next_at, most = session.execute(
        select(func.count(), func.min(LapseMail.next_attempt_at), func.max(LapseMail.attempts))
    ).one()
    return {
        "owed": count,
        "next_try_at": next_at.isoformat() if next_at is not None else None,
        "most_tries": most or 0,
    }


def send_owed_mails(
    database: Database,
    mailer: Mailer,
    subject_keys: SubjectKeys,
    issuer: str,
    now: dt.datetime | None = None,
    *,
    all_owed: bool = False,
) -> int:
    """One round of the background worker: try again the lapse e-mails that are due, each
    claimed first (its next try moved on, in a transaction of its own), so that no other
    round sends it meanwhile, and forgotten once sent or when its resident has no address
    any more. The round stops at the first refusal (the mail server is down: the others wait
    for later rounds) and after `WORKER_BUDGET_S`; a message refused `ATTEMPTS` times is given
    up. No transaction is held while the mail server is asked. Returns how many were sent.
    `all_owed`: every owed message, due or not (an operator's `--send-now` once the mail
    server is back)."""
    now = now or utcnow()
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started <= WORKER_BUDGET_S:
        mail = _claim_next(database, subject_keys, issuer, now, all_owed)
        if mail is None:
            break
        if mail.address is not None and not _send(mailer, mail.address, mail.subject, mail.body):
            if mail.attempts >= ATTEMPTS:
                log.warning(
                    "vouching: a lapse e-mail could not be sent after %d tries; given up", ATTEMPTS
                )
                with database.transaction() as session:
                    _forget(session, [(mail.account_id, mail.lapsed_at)])
            break
        sent += mail.address is not None
        with database.transaction() as session:
            _forget(session, [(mail.account_id, mail.lapsed_at)])
    return sent


def _claim_next(
    database: Database, subject_keys: SubjectKeys, issuer: str, now: dt.datetime, all_owed: bool
) -> _Due | None:
    """The first due message (any owed one with `all_owed`), claimed: its try counted and
    its next one set (after twice the last wait) before it is sent. None when nothing is
    due. (With `all_owed` a round still ends: each message sent is forgotten, and the first
    refusal ends it.)"""
    due = true() if all_owed else LapseMail.next_attempt_at <= now
    with database.transaction() as session:
        for _ in range(CLAIM_TRIES):
            owed = session.scalars(
                select(LapseMail).where(due).order_by(LapseMail.next_attempt_at).limit(1)
            ).first()
            if owed is None:
                return None
            claimed = session.execute(
                update(LapseMail)
                .where(
                    LapseMail.account_id == owed.account_id,
                    LapseMail.lapsed_at == owed.lapsed_at,
                    LapseMail.attempts == owed.attempts,  # no other round claimed it
                )
                .values(
                    attempts=owed.attempts + 1,
                    next_attempt_at=now + FIRST_RETRY * 2**owed.attempts,
                )
                .execution_options(synchronize_session=False)
            )
            if rowcount(claimed) == 1:
                break
            session.expire_all()  # another round took it: the next one
        else:
            return None  # others are claiming too: a later round
        notice = vouching.LapseNotice(owed.account_id, owed.reason, owed.lapsed_at, owed.language)
        address = _address(session, subject_keys, owed.account_id)
        return _Due(
            owed.account_id, owed.lapsed_at, owed.attempts + 1, address, *_message(notice, issuer)
        )
