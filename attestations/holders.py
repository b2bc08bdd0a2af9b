"""Whose credential is this? The link from a presented Kluis credential to the account it was
issued to, through its Token Status List entry.

Every credential Kluis issues names a status list entry (`status.status_list.uri` and `idx`,
SD-JWT VC §3.2.2.2) that is unique to it and stored in `issued_credentials` with the account.
The entry is in the clear part of the credential, bound by the issuer's signature, so a holder
cannot point it at someone else's entry. That holds only for credentials Kluis itself signed:
another issuer (even one the operator trusts) could name any of Kluis's entries, so the
credential's `iss` must be Kluis. Used for Kluis's own login by QR and for the verifier's
per-resident poll pseudonyms: platforms never learn the entry or the account.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.models import IssuedCredential
from attestations.statuslist import StatusReference
from core import utcnow


@dataclass(frozen=True)
class CredentialHolder:
    """Who a presented credential of this Kluis belongs to: the account it was issued to, and
    what it votes as in polls when that is not the account (`pseudonym_holder`, a letter)."""

    account_id: str
    pseudonym_holder: str | None


def holder_of_credential(
    session: Session,
    config: AttestationConfig,
    ref: StatusReference,
    now: dt.datetime | None = None,
    *,
    iss: object,
) -> CredentialHolder | None:
    """The holder of the credential with this status entry, or None when it is not one of this
    Kluis's credentials (its verified `iss` is another issuer, or the entry is not on Kluis's
    lists), was revoked, has expired, or its account was erased (`account_id` cleared). The
    caller still checks that the account is active."""
    if not isinstance(iss, str) or iss != config.issuer:
        return None
    prefix = config.status_uri("")
    list_id = ref.uri[len(prefix) :] if ref.uri.startswith(prefix) else ""
    if not list_id or "/" in list_id or len(list_id) > 32:
        return None
    row = session.scalar(
        select(IssuedCredential).where(
            IssuedCredential.status_list_id == list_id, IssuedCredential.status_idx == ref.idx
        )
    )
    moment = now or utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= moment:
        return None
    if row.account_id is None:
        return None
    return CredentialHolder(row.account_id, row.pseudonym_holder)


def account_of_credential(
    session: Session,
    config: AttestationConfig,
    ref: StatusReference,
    now: dt.datetime | None = None,
    *,
    iss: object,
) -> str | None:
    """The account a credential with this status entry was issued to (`holder_of_credential`),
    or None."""
    holder = holder_of_credential(session, config, ref, now, iss=iss)
    return holder.account_id if holder is not None else None
