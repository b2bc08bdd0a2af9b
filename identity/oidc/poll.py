"""The `poll_pseudonym` claim: one pseudonym per resident, platform and poll.

A platform asks for it by name with the poll as the claim's `value` (OIDC Core §5.5.1):
`claims={"id_token": {"poll_pseudonym": {"value": "<poll id>"}}}` (or under `userinfo`). Like
every claim it leaves only under the resident's consent. The value is
`attestations.pseudonyms.resident_poll_pseudonym` for the client's pairwise sector, so the
verifier gives the same pseudonym for the same resident, platform and poll.
"""

from __future__ import annotations

from typing import Any

from attestations.pseudonyms import resident_poll_pseudonym
from identity.oidc.claims import POLL_PSEUDONYM, RequestedClaims
from identity.oidc.models import Client, Grant
from identity.oidc.provider import Provider


def poll_claims(
    provider: Provider, client: Client, grant: Grant, names: set[str] | frozenset[str]
) -> dict[str, Any]:
    """`{"poll_pseudonym": …}` when it is among `names` (already filtered by consent)."""
    poll_id = RequestedClaims.from_json(grant.claims).poll_id
    if POLL_PSEUDONYM not in names or poll_id is None or not provider.poll_key:
        return {}
    value = resident_poll_pseudonym(
        provider.poll_key, client.sector_identifier, poll_id, grant.account_id
    )
    return {POLL_PSEUDONYM: value}
