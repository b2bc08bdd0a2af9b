"""What the resident sees of their own account: the fields Kluis keeps about them, decrypted
with their data key for them alone (never logged, never cached by the browser)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from identity.accounts.models import Account
from identity.accounts.service import account_email
from keys import SubjectKeys


@dataclass(frozen=True)
class Profile:
    handle: str
    name: str | None
    email: str | None
    email_verified: bool


def own_profile(session: Session, subject_keys: SubjectKeys, account: Account) -> Profile:
    name = (
        subject_keys.decrypt(session, account.id, "name", account.name_enc)
        if account.name_enc is not None
        else None
    )
    return Profile(
        handle=account.handle,
        name=name or None,
        email=account_email(session, subject_keys, account),
        email_verified=account.email_verified,
    )
