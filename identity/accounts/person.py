"""One account per person (#12): a resident who proved who they are at the municipality's
DigiD broker is linked to their account by a keyed hash of their BSN, so a second account of
the same person is refused — the registry's attestations, and with them one poll pseudonym
per person, cannot be collected twice.

The BSN is never stored: only `person_ref`, HMAC-SHA256 under a key derived for this purpose
alone (`PERSON_KEY_PURPOSE`), which a copy of the database cannot reverse without the secret.
A refusal names no other account, and its audit entry names only the account that asked.
Erasing the account removes its link (ON DELETE CASCADE): the person may start again.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit import record
from core import utcnow
from identity.accounts.errors import AccountOfAnotherPerson, PersonHasAnotherAccount
from identity.accounts.models import PersonLink

PERSON_KEY_PURPOSE = "kluis/identity/person-bsn"


def person_ref(key: bytes, bsn: str) -> str:
    return hmac.new(key, bsn.encode("ascii"), hashlib.sha256).hexdigest()


def link_person(
    session: Session, key: bytes, *, account_id: str, bsn: str, subject_ref: str
) -> bool:
    """Link the account to the person with this BSN; True when the link is new. Raises
    `PersonHasAnotherAccount` when another account holds that person (also when a concurrent
    request linked it first: the unique index decides), `AccountOfAnotherPerson` when this
    account is linked to someone else. Audited either way."""
    ref = person_ref(key, bsn)
    holder = session.scalar(select(PersonLink.account_id).where(PersonLink.person_ref == ref))
    if holder == account_id:
        return False
    own = session.get(PersonLink, account_id)
    if holder is not None or own is not None:
        record(session, "person.link_refused", "resident", subject_ref, {})
        raise PersonHasAnotherAccount() if holder is not None else AccountOfAnotherPerson()
    try:
        with session.begin_nested():
            session.add(PersonLink(account_id=account_id, person_ref=ref, linked_at=utcnow()))
    except IntegrityError:
        record(session, "person.link_refused", "resident", subject_ref, {})
        raise PersonHasAnotherAccount() from None
    record(session, "person.linked", "resident", subject_ref, {})
    return True
