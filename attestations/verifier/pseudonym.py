"""Per-poll pseudonyms ("one person, one vote", DESIGN invariant 4).

`poll_pseudonym` = `identity.oidc.pseudonyms.poll_pseudonym`: HMAC(key, "poll" ‖ client
sector ‖ poll_id ‖ holder). The holder is found through the presented credential's Token
Status List entry (`status.status_list.uri` + `idx` name exactly one `issued_credentials`
row):

- normally the Kluis account the credential was issued to (`resident_reference`): every
  credential of a resident — all copies of a batch, the built-in wallet's and a wallet
  app's — gives the same pseudonym for one poll at one platform;
- for a credential that came from a letter with a one-time code (`attestations.letters`), the
  letter (`pseudonym_holder`, `letter:<id>`): one letter, one vote. A letter is bound to the
  first account that redeems it, so no second account can vote with it, and the platform API
  for paper votes (`POST /letters/votes`) answers the same value for that letter's code.

Different polls and platforms give unlinkable values, whatever the holder. The account id and
the letter id never leave Kluis: only the HMAC does.

A presentation is anonymous (the platform learns the disclosed claims, not who the resident
is), so this value is deliberately NOT the OIDC `poll_pseudonym` claim's, which comes with
the pairwise `sub` (`"poll"` vs `"oidc-poll"` channel): otherwise the platform could ask the
OIDC provider for the same poll and tie each anonymous vote to a `sub`. A poll uses one
channel; a resident voting by QR and by OIDC login in one poll gets two pseudonyms.

Without an account (a credential of another issuer, or of a resident since erased) there is
no pseudonym, and the result says why (`poll_pseudonym_unavailable`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.holders import CredentialHolder, holder_of_credential
from attestations.letters.lookup import letter_poll
from attestations.statuslist import StatusReference
from identity import poll_pseudonym, resident_poll_pseudonym, valid_poll_id

NO_ACCOUNT = "no_account"
SEVERAL_RESIDENTS = "several_residents"
SEVERAL_LETTERS = "several_letters"
OTHER_POLL = "other_poll"  # a letter for one poll does not vote in another


def holder_of(
    session: Session, issuer: str, credential_iss: Any, ref: StatusReference | None
) -> CredentialHolder | None:
    """The holder of a (verified) credential of this Kluis, or None: another issuer, no
    status entry, or the resident was erased (`account_id` is cleared then)."""
    if ref is None:
        return None
    return holder_of_credential(session, AttestationConfig(issuer), ref, iss=credential_iss)


def pseudonym_claims(
    session: Session,
    key: bytes,
    issuer: str,
    sector: str,
    poll_id: str,
    presented: Iterable[tuple[Any, StatusReference | None]],
) -> dict[str, str]:
    """`{"poll_pseudonym": …}`, or `{"poll_pseudonym_unavailable": reason}`. `presented`
    holds (iss, status reference) per verified credential. The credentials must belong to one
    account; if one of them came from a letter, the letter is the holder (a presentation of
    credentials from two letters has none)."""
    holders = [h for iss, ref in presented if (h := holder_of(session, issuer, iss, ref))]
    accounts = {h.account_id for h in holders}
    if not accounts:
        return {"poll_pseudonym_unavailable": NO_ACCOUNT}
    if len(accounts) > 1:
        return {"poll_pseudonym_unavailable": SEVERAL_RESIDENTS}
    letters = {h.pseudonym_holder for h in holders if h.pseudonym_holder is not None}
    if len(letters) > 1:
        return {"poll_pseudonym_unavailable": SEVERAL_LETTERS}
    if letters:
        if not valid_poll_id(poll_id):
            raise ValueError("poll_id must be 1 to 128 printable ASCII characters")
        letter = letters.pop()
        if letter_poll(session, letter) not in ("", None, poll_id):
            return {"poll_pseudonym_unavailable": OTHER_POLL}  # as the paper path refuses it
        return {"poll_pseudonym": poll_pseudonym(key, sector, poll_id, letter)}
    return {"poll_pseudonym": resident_poll_pseudonym(key, sector, poll_id, accounts.pop())}
