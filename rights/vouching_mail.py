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
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from adapters import Mailer
from attestations import vouching
from core import register, translate, when
from identity import account_email, get_account
from keys import SubjectKeys

log = logging.getLogger("kluis.vouching")
_PENDING = "kluis.vouching.mail.pending"  # session.info: [(mailer, to, subject, body)]
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
    `session` commits. Returns how many were staged."""
    staged = 0
    for notice in vouching.lapse_notices(session, lapses):
        account = get_account(session, notice.account_id)
        address = account_email(session, subject_keys, account) if account else None
        if not address:  # a desk account without e-mail: their vouching page says it
            continue
        subject, body = _message(notice, issuer)
        if session.get_transaction() is None:
            session.begin()  # so that a rollback, which drops the staged mail, ends it
        session.info.setdefault(_PENDING, []).append((mailer, address, subject, body))
        staged += 1
    return staged


@event.listens_for(Session, "after_commit")
def _send_staged(session: Session) -> None:
    staged = session.info.pop(_PENDING, None) or []
    for mailer, address, subject, body in staged:
        try:
            mailer.send(address, subject, body)
        except Exception as exc:  # the decision stands; the page still tells them
            log.warning(
                "vouching: a lapse e-mail could not be sent", extra={"error": type(exc).__name__}
            )


@event.listens_for(Session, "after_transaction_end")
def _drop_staged(session: Session, transaction: SessionTransaction) -> None:
    # a rolled-back decision tells no one (after a commit `_send_staged` took them already)
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
