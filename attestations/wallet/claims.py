"""Attested claims for OpenID Connect, from the resident's built-in wallet only.

`postcode_area`, `municipality`, `age_over_18` and `real_person` leave Kluis in an ID token or
UserInfo response only when a valid (not expired), unrevoked credential in the resident's
built-in wallet says so. Kluis keeps no other copy of claim values, so there is no other
source. The OIDC layer releases them only under an active consent (it filters first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from attestations.wallet.store import usable_credentials
from keys import SubjectKeys

ATTESTED_CLAIMS = ("postcode_area", "municipality", "age_over_18", "real_person")
# OIDC claim -> (credential type, claim in that credential)
SOURCES: Mapping[str, tuple[str, str]] = {
    "postcode_area": ("postcode", "postcode_area"),
    "municipality": ("postcode", "municipality"),
    "age_over_18": ("age", "age_over_18"),
    "real_person": ("real_person", "real_person"),
}


def attested_claims(
    session: Session,
    subject_keys: SubjectKeys,
    account_id: str,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The attested claims the resident's usable wallet credentials hold (newest wins)."""
    values: dict[str, Any] = {}
    for held in usable_credentials(session, subject_keys, account_id, now):
        claims = held.claims
        for name, (type_id, source) in SOURCES.items():
            if name not in values and held.type == type_id and source in claims:
                values[name] = claims[source]
    return values
