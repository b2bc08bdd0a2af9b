"""Helpers for letter tests: an address list, a batch generated through the domain, and the
settings-derived config the app uses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from attestations.letters.addresses import Address, read_addresses
from attestations.letters.config import LettersConfig, letters_config
from attestations.letters.service import GeneratedBatch, Municipality, generate_letters
from core.db import utcnow

MUNICIPALITY = Municipality("GM0363", "Amsterdam")
ROWS = [
    "postcode,huisnummer,toevoeging,buurtcode",
    "1087 ab,217,,BU03630001",
    "1087AB,419,a,",
    "1011XZ,583,,WK036300",
]
HOUSE_NUMBERS = ("217", "419", "583")


def addresses(rows: list[str] | None = None) -> list[Address]:
    return read_addresses(rows or ROWS, MUNICIPALITY.code)


def config_of(settings: Any) -> LettersConfig:
    return letters_config(settings)


def make_batch(
    session: Session,
    config: LettersConfig,
    *,
    rows: list[str] | None = None,
    poll_id: str | None = "buurtbudget-2027",
    per_address: int = 1,
    days: int = 30,
    now: dt.datetime | None = None,
    commit: bool = True,
) -> GeneratedBatch:
    moment = now or utcnow()
    batch = generate_letters(
        session,
        config,
        addresses=addresses(rows),
        municipality=MUNICIPALITY,
        valid_until=moment.date() + dt.timedelta(days=days),
        per_address=per_address,
        poll_id=poll_id,
        actor="operator:cli",
        now=moment,
    )
    if commit:
        session.commit()
    return batch
