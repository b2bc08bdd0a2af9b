"""Per-poll pseudonyms ("one person, one vote", DESIGN invariant 4).

`poll_pseudonym` = `identity.oidc.pseudonyms.resident_poll_pseudonym`: HMAC(key, "poll" ‖
client sector ‖ poll_id ‖ resident). The resident is the Kluis account the presented credential
was issued to, found through the credential's Token Status List entry
(`status.status_list.uri` + `idx` name exactly one `issued_credentials` row). Every
credential of a resident — all copies of a batch, the built-in wallet's and a wallet
app's — gives the same pseudonym for one poll at one platform; different polls and platforms
give unlinkable ones. The account id never leaves Kluis: only the HMAC does.

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
from attestations.holders import account_of_credential
from attestations.statuslist import StatusReference
from identity import resident_poll_pseudonym

NO_ACCOUNT = "no_account"
SEVERAL_RESIDENTS = "several_residents"


def resident_of(
    session: Session, issuer: str, credential_iss: Any, ref: StatusReference | None
) -> str | None:
    """The account a (verified) credential of this Kluis was issued to, or None: another
    issuer, no status entry, or the resident was erased (`account_id` is cleared then)."""
    if ref is None:
        return None
    return account_of_credential(session, AttestationConfig(issuer), ref, iss=credential_iss)


def pseudonym_claims(
    session: Session,
    key: bytes,
    issuer: str,
    sector: str,
    poll_id: str,
    presented: Iterable[tuple[Any, StatusReference | None]],
) -> dict[str, str]:
    """`{"poll_pseudonym": …}`, or `{"poll_pseudonym_unavailable": reason}`. `presented`
    holds (iss, status reference) per verified credential."""
    residents = {r for iss, ref in presented if (r := resident_of(session, issuer, iss, ref))}
    if not residents:
        return {"poll_pseudonym_unavailable": NO_ACCOUNT}
    if len(residents) > 1:
        return {"poll_pseudonym_unavailable": SEVERAL_RESIDENTS}
    return {"poll_pseudonym": resident_poll_pseudonym(key, sector, poll_id, residents.pop())}
