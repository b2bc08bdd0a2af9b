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
mail server refused stays owed, and the background worker tries again (`send_owed_mails`)
after 5 minutes, then 10, 20 … up to `ATTEMPTS` tries (about a day), reading the address anew
each time: a resident erased meanwhile is mailed nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session, SessionTransaction

from adapters import Mailer
from attestations import vouching
from core import Database, register, translate, utcnow, when
from identity import account_email, get_account
from keys import SubjectKeyDestroyed, SubjectKeys
from rights.models import LapseMail

log = logging.getLogger("kluis.vouching")
# session.info: [(mailer, to, subject, body, (account_id, lapsed_at))]
_PENDING = "kluis.vouching.mail.pending"
FIRST_RETRY = dt.timedelta(minutes=5)  # doubled after each failed try
ATTEMPTS = 9  # the try right after the commit and eight more: the last about 21 hours later
BATCH = 100  # owed messages read per round of the background worker
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
        owed = LapseMail(
            account_id=notice.account_id,
            reason=notice.reason,
            lapsed_at=notice.at,
            language=notice.language,
            attempts=1,  # the try after the commit
            next_attempt_at=retry_at,
        )
        session.merge(owed)  # a later lapse replaces an unsent one
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


@event.listens_for(Session, "after_commit")
def _send_staged(session: Session) -> None:
    staged = session.info.pop(_PENDING, None) or []
    sent = [owed for mailer, to, subject, body, owed in staged if _send(mailer, to, subject, body)]
    if not sent:
        return
    try:  # a new transaction (this one has ended) on the same connection or engine
        with Session(bind=session.get_bind(), join_transaction_mode="create_savepoint") as own:
            _forget(own, sent)
            own.commit()
    except Exception as exc:  # still owed: sent once more later, rather than never
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
    attempts: int
    address: str | None  # None: nobody to write to any more
    subject: str
    body: str


def send_owed_mails(
    database: Database,
    mailer: Mailer,
    subject_keys: SubjectKeys,
    issuer: str,
    now: dt.datetime | None = None,
) -> int:
    """One round of the background worker: try again each lapse e-mail that is due. Sent
    ones, and those of residents without an address now, are forgotten; a failed one is
    tried again after twice the wait, and given up after `ATTEMPTS` tries. No transaction is
    held while the mail server is asked. Returns how many were sent."""
    now = now or utcnow()
    with database.transaction() as session:
        query = (
            select(LapseMail)
            .where(LapseMail.next_attempt_at <= now)
            .order_by(LapseMail.next_attempt_at)
            .limit(BATCH)
        )
        due = [
            _Due(
                owed.account_id,
                owed.lapsed_at,
                owed.attempts,
                _address(session, subject_keys, owed.account_id),
                *_message(
                    vouching.LapseNotice(
                        owed.account_id, owed.reason, owed.lapsed_at, owed.language
                    ),
                    issuer,
                ),
            )
            for owed in session.scalars(query)
        ]
    if not due:
        return 0
    done: list[tuple[str, dt.datetime]] = []
    failed: list[_Due] = []
    sent = 0
    for mail in due:
        if mail.address is not None and not _send(mailer, mail.address, mail.subject, mail.body):
            failed.append(mail)
            continue
        sent += mail.address is not None
        done.append((mail.account_id, mail.lapsed_at))
    with database.transaction() as session:
        _forget(session, done)
        for mail in failed:
            _tried_again(session, mail, now)
    return sent


def _tried_again(session: Session, mail: _Due, now: dt.datetime) -> None:
    if mail.attempts + 1 >= ATTEMPTS:
        log.warning("vouching: a lapse e-mail could not be sent after %d tries; given up", ATTEMPTS)
        _forget(session, [(mail.account_id, mail.lapsed_at)])
        return
    row = session.get(LapseMail, mail.account_id)
    if row is not None and row.lapsed_at == mail.lapsed_at:  # not replaced meanwhile
        row.attempts = mail.attempts + 1
        row.next_attempt_at = now + FIRST_RETRY * 2**mail.attempts
