"""The `poll_pseudonym` claim: one pseudonym per resident, platform and poll, consented per poll.

A platform asks for it by name with the poll as the claim's `value` (OIDC Core §5.5.1):
`claims={"id_token": {"poll_pseudonym": {"value": "<poll id>"}}}` (or under `userinfo`). The
value is `identity.oidc.pseudonyms.oidc_poll_pseudonym` for the client's pairwise sector: a
different HMAC channel from the verifier's, so it never equals the pseudonym an anonymous
OpenID4VP (QR) presentation gave for the same resident, platform and poll. It travels next to
the pairwise `sub`; were the two equal, the platform could tie each anonymous vote to a `sub`.
A poll must therefore use one channel (see `identity.oidc.pseudonyms`).

Consent is per poll (GDPR Art. 4(11): specific): the ledger records it under the purpose
`poll:<poll id>` (`consent.ledger.poll_purpose`), and only that record releases that poll's
pseudonym. A request for a poll the resident has not answered for shows the consent screen
again (with `prompt=none`: `consent_required`); consent records of the default purpose for
`poll_pseudonym` (written before consent was per poll) release nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from consent import active_claims, decided_claims, poll_purpose, record_decision
from identity.oidc.claims import POLL_PSEUDONYM, RequestedClaims
from identity.oidc.models import Client, Grant
from identity.oidc.provider import Provider
from identity.oidc.pseudonyms import oidc_poll_pseudonym

_POLL = frozenset({POLL_PSEUDONYM})


def poll_claims(
    provider: Provider, client: Client, grant: Grant, names: set[str] | frozenset[str]
) -> dict[str, Any]:
    """`{"poll_pseudonym": …}` when it is among `names` (already filtered by consent)."""
    poll_id = RequestedClaims.from_json(grant.claims).poll_id
    if POLL_PSEUDONYM not in names or poll_id is None or not provider.poll_key:
        return {}
    value = oidc_poll_pseudonym(
        provider.poll_key, client.sector_identifier, poll_id, grant.account_id
    )
    return {POLL_PSEUDONYM: value}


def consented_claims(
    session: Session, account_id: str, client_id: str, poll_id: str | None
) -> set[str]:
    """Claims under active consent for a request: `poll_pseudonym` only when consent was
    given for this very poll."""
    active = active_claims(session, account_id, client_id) - _POLL
    if poll_id is not None:
        active |= _POLL & active_claims(session, account_id, client_id, poll_purpose(poll_id))
    return active


def decided_for(session: Session, account_id: str, client_id: str, poll_id: str | None) -> set[str]:
    """Claims the resident has answered for; `poll_pseudonym` only for this very poll."""
    decided = decided_claims(session, account_id, client_id) - _POLL
    if poll_id is not None:
        decided |= _POLL & decided_claims(session, account_id, client_id, poll_purpose(poll_id))
    return decided


def record_claims_decision(
    session: Session,
    *,
    poll_id: str | None,
    given: Iterable[str],
    refused: Iterable[str],
    **kw: Any,
) -> None:
    """`consent.ledger.record_decision` for a consent screen's answer, with the answer for
    `poll_pseudonym` recorded under the poll's own purpose."""
    given, refused = set(given), set(refused)
    record_decision(session, given=given - _POLL, refused=refused - _POLL, **kw)
    if poll_id is not None and _POLL & (given | refused):
        record_decision(
            session,
            given=given & _POLL,
            refused=refused & _POLL,
            **{**kw, "purpose": poll_purpose(poll_id)},
        )
