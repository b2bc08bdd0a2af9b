"""What an ID token or a UserInfo response releases: the requested claims whose fields are
under the resident's consent now, their values, and the `claims.released` audit entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from audit import record
from identity.oidc.claims import RequestedClaims, fields_of, under_consent
from identity.oidc.models import Client, Grant
from identity.oidc.poll import consented_claims, poll_claims
from identity.oidc.provider import Provider


def released_claims(session: Session, grant: Grant, which: str) -> set[str]:
    """Requested claims of one kind (userinfo / id_token) whose field is under active consent
    now (`poll_pseudonym`: consent for the requested poll, see `identity.oidc.poll`)."""
    requested = RequestedClaims.from_json(grant.claims)
    wanted = requested.userinfo if which == "userinfo" else requested.id_token
    if not wanted:
        return set()
    return under_consent(
        wanted, consented_claims(session, grant.account_id, grant.client_id, requested.poll_id)
    )


def resolve_claims(
    session: Session, provider: Provider, client: Client, grant: Grant, names: set[str]
) -> dict[str, Any]:
    """Values of the released `names`: from the claim sources, and the poll pseudonym."""
    values = provider.claims.resolve(session, grant.account_id, names)
    if "preferred_username" in values:  # the platform's own, never the Kluis user name
        values["preferred_username"] = provider.subject_ids.username_for(client, grant.account_id)
    values.update(poll_claims(provider, client, grant, names))
    return values


def record_release(
    session: Session, provider: Provider, grant: Grant, values: Mapping[str, Any], channel: str
) -> None:
    """The `claims.released` entry of one ID token or UserInfo response: the claims and the
    consented fields they came from (names only, never values)."""
    if values:
        record(
            session,
            "claims.released",
            f"client:{grant.client_id}",
            provider.subject_keys.reference(session, grant.account_id),
            {
                "client": grant.client_id,
                "claims": sorted(values),
                "fields": sorted(fields_of(values)),
                "channel": channel,
            },
        )
