"""Whom to tell, by e-mail, that their peer `real_person` attestation ended (`lapse_notices`):
the residents a cascade or a settle left without any `real_person` attestation, when the rules
ended it (its confirmations no longer meet the threshold, or it reached the peer validity).

Never the account a steward found fake (its own grants are not among an outcome's lapses, and
a lapse for `fake` is not told), nor an erased one. A notice carries what the message needs and
nothing about the cause beyond the reason: not who was found fake or erased.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.vouching.cascade import Lapse
from attestations.vouching.graph import among
from attestations.vouching.models import PeerGrant

TOLD = ("below_threshold", "expired")
LANGUAGES = ("nl", "en")


@dataclass(frozen=True)
class LapseNotice:
    account_id: str
    reason: str  # one of TOLD
    at: dt.datetime
    language: str  # one of LANGUAGES


def lapse_notices(session: Session, lapses: Iterable[Lapse]) -> list[LapseNotice]:
    """One notice per resident among `lapses` who lost `real_person` for a reason in TOLD, in
    the language they claimed the attestation in (Dutch when unknown)."""
    lost = {lapse.grant_id for lapse in lapses if lapse.lost_real_person}
    found: dict[str, LapseNotice] = {}
    for part in among(session, PeerGrant.id, lost):
        rows = session.execute(
            select(
                PeerGrant.account_id,
                PeerGrant.lapse_reason,
                PeerGrant.lapsed_at,
                PeerGrant.language,
            ).where(part, PeerGrant.lapse_reason.in_(TOLD), PeerGrant.lapsed_at.is_not(None))
        )
        for account, reason, at, language in rows:
            assert reason is not None and at is not None  # the query's conditions
            lang = language if language in LANGUAGES else "nl"
            found[account] = LapseNotice(account, reason, at, lang)
    return [found[account] for account in sorted(found)]
